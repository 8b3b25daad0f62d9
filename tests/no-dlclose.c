/* no-dlclose.c — linked into the tests of sanitizer builds only.
 *
 * The Vulkan loader unloads the driver (lavapipe) at vkDestroyInstance; the
 * driver's process-lifetime allocations then show up in LeakSanitizer as
 * "<unknown module>" and cannot be suppressed by name.  Keeping libraries
 * mapped lets tests/lsan.supp name them, while leaks in dfx stay reported.
 */
__attribute__ ((visibility ("default"))) int dlclose (void *handle);

int
dlclose (void *handle)
{
    (void) handle;
    return 0;
}
