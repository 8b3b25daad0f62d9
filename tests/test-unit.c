/* test-unit.c — pieces of libdfx that need no device: status names, the
 * options defaults, the SPIR-V binding scan on the embedded table and on
 * malformed input, and the CPU references on hand-computed cases. */
#include "check.h"
#include "dfx-private.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>

int
main (void)
{
    /* Every status has a distinct name. */
    for (int a = DFX_OK; a <= DFX_ERR_CANCELLED; a++)
        for (int b = a + 1; b <= DFX_ERR_CANCELLED; b++)
            CHECK (strcmp (dfx_status_name (a), dfx_status_name (b)) != 0, "%d and %d", a, b);
    CHECK (strcmp (dfx_status_name (DFX_ERR_NO_DEVICE), "DFX_ERR_NO_DEVICE") == 0, "name");
    CHECK (strcmp (dfx_ctx_errmsg (NULL), "out of host memory") == 0, "NULL ctx message");

    /* Options read the environment. */
    setenv ("DFX_DEVICE", "llvm", 1);
    setenv ("DFX_VALIDATION", "1", 1);
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    CHECK (opt.device && strcmp (opt.device, "llvm") == 0 && opt.validation == 1, "env options");
    setenv ("DFX_VALIDATION", "0", 1);
    dfx_ctx_options_defaults (&opt);
    CHECK (opt.validation == 0, "DFX_VALIDATION=0");
    unsetenv ("DFX_DEVICE");
    unsetenv ("DFX_VALIDATION");

    /* The embedded table: every shader is valid SPIR-V whose binding count
     * matches what its op binds. */
    const struct {
        const char *name;
        int bindings;
    } expect[] = {{"add", 3}, {"mul", 3}, {"axpy", 2}, {"scale", 2}, {"silu", 2},
                  {"dot", 3}, {"reduce-sum", 2}, {"gemm", 5}, {"gemm-lvp", 5}, {"gemm-rows", 5}, {"conv2d", 6}, {"conv2d-lvp", 6},
                  {"groupnorm", 4}, {"groupnorm-lvp", 4}, {"softmax", 1}, {"softmax-lvp", 1}, {"copy-channels", 2},
                  {"lincomb", 3}, {"spectral-pack", 3}, {"spectral-unpack", 3}, {"spectral-mix", 2},
                  {"dftm-div", 3}, {"ocm-step", 4}, {"ratio-moment", 2}, {"adam", 4}, {"attn-window", 4},
                  {"attn-window-lvp", 4}};
    CHECK (dfx__spirv_count == sizeof expect / sizeof expect[0], "%zu shaders embedded", dfx__spirv_count);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        int found = 0;
        for (size_t j = 0; j < dfx__spirv_count; j++)
            if (strcmp (dfx__spirv_table[j].name, expect[i].name) == 0) {
                found = 1;
                int nb = dfx__spirv_binding_count (dfx__spirv_table[j].code, dfx__spirv_table[j].size);
                CHECK (nb == expect[i].bindings, "%s: %d bindings", expect[i].name, nb);
            }
        CHECK (found, "shader %s embedded", expect[i].name);
    }
    /* Malformed SPIR-V: bad magic, truncated instruction, zero word count. */
    uint32_t bad[8] = {0xdeadbeef, 0, 0, 0, 0, 0, 0, 0};
    CHECK (dfx__spirv_binding_count (bad, sizeof bad) == -1, "bad magic");
    uint32_t trunc[6] = {0x07230203u, 0x10000, 0, 10, 0, (50u << 16) | 71u};
    CHECK (dfx__spirv_binding_count (trunc, sizeof trunc) == -1, "instruction past the end");
    uint32_t zero[6] = {0x07230203u, 0x10000, 0, 10, 0, 0};
    CHECK (dfx__spirv_binding_count (zero, sizeof zero) == -1, "zero word count");
    CHECK (dfx__spirv_binding_count (bad, 8) == -1, "too short");

    /* References on cases worked by hand. */
    const float a[4] = {1, 2, 3, 4}, b[6] = {5, 6, 7, 8, 9, 10};
    double c[6];
    /* [1 2; 3 4] · [5 6 7; 8 9 10] = [21 24 27; 47 54 61] */
    dfx_ref_gemm (c, 2, 3, 2, 0, 0, 1.0, a, b, 0.0, NULL);
    const double want[6] = {21, 24, 27, 47, 54, 61};
    for (int i = 0; i < 6; i++)
        CHECK (c[i] == want[i], "gemm[%d] = %g", i, c[i]);
    /* Aᵀ·A with A=[1 2; 3 4]: [10 14; 14 20] */
    dfx_ref_gemm (c, 2, 2, 2, 1, 0, 1.0, a, a, 0.0, NULL);
    CHECK (c[0] == 10 && c[1] == 14 && c[2] == 14 && c[3] == 20, "gemm trans_a");
    CHECK (dfx_ref_dot (a, a, 4) == 30.0 && dfx_ref_sumsq (a, 4) == 30.0, "dot");
    double s[1];
    const float z[1] = {0.0f};
    dfx_ref_silu (s, z, 1);
    CHECK (s[0] == 0.0, "silu(0)");
    const float one[1] = {1.0f};
    dfx_ref_silu (s, one, 1);
    CHECK (fabs (s[0] - 0.7310585786300049) < 1e-15, "silu(1) = %.17g", s[0]);
    const double r2[2] = {3, 4};
    const float x2[2] = {3, 5};
    CHECK (fabs (dfx_ref_nmse (x2, r2, 2) - 1.0 / 25.0) < 1e-15, "nmse");
    return check_exit ();
}
