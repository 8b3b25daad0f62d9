#!/bin/sh
# test-cli-errors.sh DFX — the CLI on a machine state it cannot work with:
# no Vulkan driver at all, a DFX_DEVICE that matches nothing, bad arguments.
# Each must exit non-zero with a message naming the cause, never crash.
dfx=$1
pass=0 fail=0
check() { # description, expected exit, expected text, command...
  desc=$1 want=$2 text=$3; shift 3
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -q -- "$text"; then pass=$((pass+1))
  else fail=$((fail+1)); echo "FAIL $desc: exit $rc, output: $out"; fi
}
check "no driver" 1 "no Vulkan driver could be loaded" \
  env VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json "$dfx" info
check "no such device" 1 "no Vulkan device matches DFX_DEVICE=nonexistent" env DFX_DEVICE=nonexistent "$dfx" info
check "device index" 1 "DFX_DEVICE=42" env DFX_DEVICE=42 "$dfx" info --json
check "unknown command" 2 "unknown command 'frobnicate'" "$dfx" frobnicate
check "info argument" 2 "unknown argument '--bogus'" "$dfx" info --bogus
check "unet without model" 2 "--model and --input are required" "$dfx" unet --input x.safetensors
check "unet missing folder" 1 "/nonexistent/unet/config.json" "$dfx" unet --model /nonexistent --input x.safetensors
check "unet bad timestep" 2 "is not a number" "$dfx" unet --model m --input x --timestep abc
check "vae without mode" 2 "--encode or --decode" "$dfx" vae --model m --input x --output y
check "vae both modes" 2 "one of --encode and --decode" "$dfx" vae --encode --decode --model m --input x --output y
check "vae logvar on decode" 2 "--logvar goes with --encode" "$dfx" vae --decode --model m --input x --output y --logvar z
check "vae bad repeat" 2 "is not a count" "$dfx" vae --encode --model m --input x --output y --repeat -3
check "vae missing folder" 1 "/nonexistent/vae/config.json" "$dfx" vae --model /nonexistent --encode --input x --output y
check "bench usage" 2 "usage: dfx bench" "$dfx" bench
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
