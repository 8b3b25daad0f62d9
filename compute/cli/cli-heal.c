/* cli-heal.c — `dfx heal`: fill a masked region of an image so that it
 * continues its surroundings under a model.
 *
 *   dfx heal --model DIR IMAGE --mask MASK.png -o OUT.png [--steps N] [--resample U]
 *            [--strength S] [--feather F] [--context C] [--seed S] [--raw] [--json]
 *
 * The image is read as the model's channels and mapped from 8-bit to
 * [-1, 1], the mask as grey 0..255 → 0..1; both must have one size.  An
 * empty mask writes the image unchanged with a note; a mask that leaves
 * nothing around it is refused.  No numerics here: everything is dfx_heal().
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f,
             "usage: dfx heal --model DIR IMAGE --mask MASK.png -o OUT.png [--steps N] [--resample U]\n"
             "                [--strength S] [--feather F] [--context C] [--seed S] [--raw]\n"
             "                [--global-attention] [--json]\n\n"
             "Fills IMAGE where MASK is white so that it continues what surrounds it, and keeps the rest: the\n"
             "model samples a window around the mask (C pixels of surroundings, default 16) from noise at\n"
             "strength S (0 < S <= 1, default 1) over N levels (default 25), re-imposing the known pixels at\n"
             "every level and passing each level U times (default 3, at most %d).  The result is blended in by\n"
             "the mask feathered outward by F pixels (default 3, at most %d); farther out OUT.png equals IMAGE\n"
             "exactly (--raw: the model's output over the whole window).  IMAGE and MASK must have one size.\n"
             "On a window larger than the model's size each attention query sees the model's size of tokens\n"
             "around it; --global-attention: all of them.\n",
             DFX_HEAL_MAX_RESAMPLE, DFX_EDIT_MAX_FEATHER);
    return rc;
}

/* The parameters and the result of one `dfx heal`. */
typedef struct {
    dfx_heal_params p;
    dfx_heal_result r;
} heal_run;

/* The options of heal alone (dfx_cli_masked_args.option). */
static int
option (const char *a, const char *v, void *user)
{
    static const char *const cmd = "heal";
    dfx_heal_params *p = &((heal_run *) user)->p;

    if (strcmp (a, "--steps") == 0)
        return dfx_cli_parse_u32 (cmd, a, v, 1, DFX_GENERATE_MAX_STEPS, &p->steps);
    if (strcmp (a, "--resample") == 0)
        return dfx_cli_parse_u32 (cmd, a, v, 1, DFX_HEAL_MAX_RESAMPLE, &p->resample);
    if (strcmp (a, "--context") == 0)
        return dfx_cli_parse_u32 (cmd, a, v, 0, DFX_GENERATE_MAX_SIZE, &p->context);
    if (strcmp (a, "--strength") == 0)
        return dfx_cli_parse_double (cmd, a, v, 1e-6, 1.0, &p->strength);
    if (strcmp (a, "--feather") == 0)
        return dfx_cli_parse_double (cmd, a, v, 0.0, DFX_EDIT_MAX_FEATHER, &p->feather);
    if (strcmp (a, "--seed") == 0)
        return dfx_cli_parse_u64 (cmd, a, v, &p->seed);
    return -1;
}

static dfx_status
compute (const dfx_cli_masked *s, void *user)
{
    heal_run *h = user;

    return dfx_heal (s->model, &h->p, s->width, s->height, s->image, s->mask, s->out, &h->r);
}

static const char *
report (const dfx_cli_masked_args *m, const dfx_cli_masked *s, void *user)
{
    const heal_run *h = user;
    const dfx_heal_params *p = &h->p;
    const dfx_heal_result *r = &h->r;

    if (m->json) {
        cJSON *o = dfx_cli_masked_json (m, s, r->unchanged);
        cJSON_AddNumberToObject (o, "steps", p->steps);
        cJSON_AddNumberToObject (o, "resample", p->resample);
        cJSON_AddNumberToObject (o, "strength", p->strength);
        cJSON_AddNumberToObject (o, "sigma_start", r->sigma_start);
        cJSON_AddNumberToObject (o, "feather", p->feather);
        cJSON_AddBoolToObject (o, "raw", p->raw);
        dfx_cli_json_window (o, r->window_x, r->window_y, r->window_width, r->window_height);
        cJSON_AddNumberToObject (o, "nfe", r->nfe);
        cJSON_AddNumberToObject (o, "seconds", r->seconds);
        cJSON_AddStringToObject (o, "warning", r->warning);
        dfx_cli_print_json (o);
    } else if (r->unchanged)
        printf ("%s: unchanged\n", m->output);
    else
        printf ("%s: healed a window of %ux%u at (%u, %u), %u network evaluations, %.1f s\n", m->output,
                r->window_width, r->window_height, r->window_x, r->window_y, r->nfe, r->seconds);
    return r->warning;
}

int
dfx_cli_heal (int argc, char **argv)
{
    heal_run h;
    dfx_heal_params_defaults (&h.p);
    dfx_cli_masked_args m = {.cmd = "heal", .usage = usage, .raw = &h.p.raw,
                             .global_attention = &h.p.global_attention, .option = option, .compute = compute,
                             .report = report, .user = &h};
    return dfx_cli_masked_main (&m, argc, argv);
}
