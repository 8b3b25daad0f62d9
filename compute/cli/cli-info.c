/* cli-info.c — `dfx info [--json]`: the Vulkan devices and the one in use. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void
api_string (uint32_t v, char *buf, size_t size)
{
    snprintf (buf, size, "%u.%u.%u", (v >> 22) & 0x7fu, (v >> 12) & 0x3ffu, v & 0xfffu);
}

static cJSON *
device_json (const dfx_device_info *d, int index, int used)
{
    char api[32];
    api_string (d->api_version, api, sizeof api);
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddNumberToObject (o, "index", index);
    cJSON_AddStringToObject (o, "name", d->name);
    cJSON_AddStringToObject (o, "type", dfx_device_type_name (d->type));
    cJSON_AddStringToObject (o, "driver", d->driver_name);
    cJSON_AddStringToObject (o, "driver_info", d->driver_info);
    cJSON_AddStringToObject (o, "api_version", api);
    cJSON_AddNumberToObject (o, "vendor_id", d->vendor_id);
    cJSON_AddNumberToObject (o, "device_id", d->device_id);
    cJSON_AddNumberToObject (o, "subgroup_size", d->subgroup_size);
    cJSON_AddNumberToObject (o, "max_workgroup_invocations", d->max_workgroup_invocations);
    cJSON_AddNumberToObject (o, "max_shared_memory", d->max_shared_memory);
    cJSON_AddBoolToObject (o, "compute", d->compute_capable);
    cJSON_AddBoolToObject (o, "used", used);
    cJSON *heaps = cJSON_AddArrayToObject (o, "memory_heaps");
    for (int h = 0; h < d->heap_count; h++) {
        cJSON *ho = cJSON_CreateObject ();
        cJSON_AddNumberToObject (ho, "size", (double) d->heaps[h].size);
        cJSON_AddBoolToObject (ho, "device_local", d->heaps[h].device_local);
        cJSON_AddItemToArray (heaps, ho);
    }
    return o;
}

static void
device_text (const dfx_device_info *d, int index, int used)
{
    char api[32];
    api_string (d->api_version, api, sizeof api);
    printf ("%s device %d: %s\n", used ? "*" : " ", index, d->name);
    printf ("    type %s, driver %s (%s), Vulkan %s\n", dfx_device_type_name (d->type), d->driver_name, d->driver_info,
            api);
    printf ("    subgroup size %u, max workgroup %u invocations, shared memory %u KiB%s\n", d->subgroup_size,
            d->max_workgroup_invocations, d->max_shared_memory / 1024, d->compute_capable ? "" : ", no compute queue");
    for (int h = 0; h < d->heap_count; h++)
        printf ("    heap %d: %.1f MiB%s\n", h, (double) d->heaps[h].size / (1 << 20),
                d->heaps[h].device_local ? " device-local" : "");
}

int
dfx_cli_info (int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = 1;
        else if (strcmp (argv[i], "--help") == 0) {
            printf ("usage: dfx info [--json]\n\nLists the Vulkan devices and marks the one dfx uses "
                    "(DFX_DEVICE=<index|name> overrides the choice).\n");
            return 0;
        } else {
            fprintf (stderr, "dfx info: unknown argument '%s'\n", argv[i]);
            return DFX_CLI_EXIT_USAGE;
        }
    }
    dfx_ctx *ctx = NULL;
    /* Create the device too: `info` must fail when the chosen one cannot be created. */
    dfx_status st = dfx_ctx_create (NULL, &ctx);
    if (st != DFX_OK) {
        int rc = dfx_cli_fail (ctx, st);
        dfx_ctx_destroy (ctx);
        return rc;
    }
    int used = dfx_ctx_device_index (ctx);
    cJSON *root = json ? cJSON_CreateObject () : NULL;
    cJSON *arr = json ? cJSON_AddArrayToObject (root, "devices") : NULL;
    for (int i = 0; i < dfx_ctx_device_count (ctx); i++) {
        dfx_device_info d;
        if (dfx_ctx_device_info (ctx, i, &d) != DFX_OK)
            continue;
        if (json)
            cJSON_AddItemToArray (arr, device_json (&d, i, i == used));
        else
            device_text (&d, i, i == used);
    }
    if (json) {
        cJSON_AddNumberToObject (root, "used", used);
        dfx_cli_print_json (root);
    }
    dfx_ctx_destroy (ctx);
    return 0;
}
