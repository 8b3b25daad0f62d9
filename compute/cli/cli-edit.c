/* cli-edit.c — `dfx edit`: guided editing of an image with a model.
 *
 *   dfx edit --model DIR IMAGE --guide GUIDE.png --mask MASK.png -o OUT.png
 *            [--strength S] [--iterations K] [--steps N] [--sampler ddim|euler]
 *            [--start noise|invert] [--optimizer adam|momentum|sgd] [--step-size L]
 *            [--guide-weight W] [--preserve-weight W] [--adjoint auto|hybrid|gaussian|dfea-clamped|dfea|fd]
 *            [--network-steps B] [--seed S] [--feather F] [--context C] [--raw] [--global-attention] [--json]
 *
 * The image and the guide are read as the model's channels (grey, RGB, ...:
 * libpng converts) and mapped from 8-bit to [-1, 1]; the mask is read as
 * grey, 0..255 → 0..1.  All three must have one size.  The output is the
 * image with the edit composited by the mask feathered outward by F pixels
 * (default 3): farther out it is the input PNG's pixels exactly; --raw
 * writes the model's output over the whole window the model worked on
 * (the band plus C pixels of surroundings, default 16) instead.  An empty mask leaves
 * the image as it is (written to OUT.png unchanged, with a note).  --json
 * prints the loss per iteration and the times.  No numerics here: everything
 * is dfx_edit().
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f,
             "usage: dfx edit --model DIR IMAGE --guide GUIDE.png --mask MASK.png -o OUT.png [--strength S]\n"
             "                [--iterations K] [--steps N] [--sampler ddim|euler] [--start noise|invert]\n"
             "                [--optimizer adam|momentum|sgd] [--step-size L] [--guide-weight W]\n"
             "                [--preserve-weight W] [--adjoint auto|hybrid|gaussian|dfea-clamped|dfea|fd]\n"
             "                [--network-steps B] [--seed S] [--feather F] [--context C] [--raw] [--global-attention]\n"
             "                [--json]\n\n"
             "Edits IMAGE so that it follows GUIDE where MASK is white and stays itself where it is black, and\n"
             "stays natural under the model: the image inverted by the ODE (default) or noised, to strength S\n"
             "(0 < S <= 1, default 0.5), is the start point of N sampler steps (default 20, DDIM), optimised over K\n"
             "iterations (0..%d, default 10) with the adjoint of the model's Gaussian statistics where it has\n"
             "gaussian/ (hybrid: at B steps, default about a fifth of N, the network's own product by one more\n"
             "evaluation, so an iteration costs at most 1.2 sampling passes), else DF-EA's (no network\n"
             "gradients; --adjoint chooses, --network-steps sets B).  IMAGE, GUIDE and\n"
             "MASK must have one size; the mask is read as grey (0..255 -> weight 0..1).  The model works on a\n"
             "window around the mask (C pixels of surroundings, default 16); the result is blended in by the mask\n"
             "feathered outward by F pixels (default 3, at most %d); farther out OUT.png equals IMAGE exactly.\n"
             "--raw writes the model's output over the whole window instead.  On a window larger than the model's\n"
             "size each attention query sees the model's size of tokens around it; --global-attention: all.\n",
             DFX_EDIT_MAX_ITERATIONS, DFX_EDIT_MAX_FEATHER);
    return rc;
}

static int
parse_num (const char *opt, const char *s, double lo, double hi, int open_lo, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod (s, &end);
    if (!*s || !end || *end || errno || !isfinite (v) || v > hi || (open_lo ? v <= lo : v < lo)) {
        fprintf (stderr, "dfx edit: %s '%s' is not a number in %s%g, %g]\n", opt, s, open_lo ? "(" : "[", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int
whole (const char *opt, const char *s, double v)
{
    if (v == floor (v))
        return 1;
    fprintf (stderr, "dfx edit: %s '%s' must be a whole number\n", opt, s);
    return 0;
}

static int
parse_choice (const char *opt, const char *s, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp (s, names[i]) == 0) {
            *out = i;
            return 1;
        }
    fprintf (stderr, "dfx edit: %s '%s' is not one of", opt, s);
    for (int i = 0; i < n; i++)
        fprintf (stderr, " %s", names[i]);
    fputc ('\n', stderr);
    return 0;
}

static const char *const samplers[] = {"ddim", "euler"}, *const starts[] = {"noise", "invert"},
                        *const optimizers[] = {"adam", "momentum", "sgd"},
                        *const adjoints[] = {"dfea-clamped", "dfea", "fd", "gaussian", "hybrid", "auto"};

/* The parameters and the result of one `dfx edit`. */
typedef struct {
    dfx_edit_params p;
    dfx_edit_result r;
} edit_run;

/* The options of edit alone (dfx_cli_masked_args.option). */
static int
option (const char *a, const char *v, void *user)
{
    dfx_edit_params *p = &((edit_run *) user)->p;
    double d = 0;
    int k = 0, ok = 1;

    if (strcmp (a, "--strength") == 0)
        ok = parse_num (a, v, 0, 1, 1, &p->strength);
    else if (strcmp (a, "--iterations") == 0) {
        ok = parse_num (a, v, 0, DFX_EDIT_MAX_ITERATIONS, 0, &d) && whole (a, v, d);
        p->iterations = (uint32_t) d;
    } else if (strcmp (a, "--steps") == 0) {
        ok = parse_num (a, v, 1, DFX_GENERATE_MAX_STEPS, 0, &d) && whole (a, v, d);
        p->steps = (uint32_t) d;
    } else if (strcmp (a, "--network-steps") == 0) {
        ok = parse_num (a, v, 0, DFX_GENERATE_MAX_STEPS, 0, &d) && whole (a, v, d);
        p->network_steps = (int32_t) d;
    } else if (strcmp (a, "--seed") == 0) {
        ok = parse_num (a, v, 0, 9007199254740992.0, 0, &d) && whole (a, v, d);
        p->seed = (uint64_t) d;
    } else if (strcmp (a, "--step-size") == 0)
        ok = parse_num (a, v, 0, 1e6, 1, &p->step_size);
    else if (strcmp (a, "--feather") == 0)
        ok = parse_num (a, v, 0, DFX_EDIT_MAX_FEATHER, 0, &p->feather);
    else if (strcmp (a, "--context") == 0) {
        ok = parse_num (a, v, 0, DFX_GENERATE_MAX_SIZE, 0, &d) && whole (a, v, d);
        p->context = (uint32_t) d;
    } else if (strcmp (a, "--guide-weight") == 0)
        ok = parse_num (a, v, 0, 1e6, 0, &p->guide_weight);
    else if (strcmp (a, "--preserve-weight") == 0)
        ok = parse_num (a, v, 0, 1e6, 0, &p->preserve_weight);
    else if (strcmp (a, "--sampler") == 0) {
        ok = parse_choice (a, v, samplers, 2, &k);
        p->sampler = k ? DFX_SAMPLER_EULER : DFX_SAMPLER_DDIM;
    } else if (strcmp (a, "--start") == 0) {
        ok = parse_choice (a, v, starts, 2, &k);
        p->start = (dfx_edit_start) k;
    } else if (strcmp (a, "--optimizer") == 0) {
        ok = parse_choice (a, v, optimizers, 3, &k);
        p->optimizer = (dfx_edit_optimizer) k;
    } else if (strcmp (a, "--adjoint") == 0) {
        ok = parse_choice (a, v, adjoints, 6, &k);
        p->adjoint = (dfx_edit_adjoint) k;
    } else
        return -1;
    return ok;
}

static dfx_status
compute (const dfx_cli_masked *s, void *user)
{
    edit_run *e = user;

    return dfx_edit (s->model, &e->p, s->width, s->height, s->image, s->guide, s->mask, s->out, &e->r);
}

static const char *
report (const dfx_cli_masked_args *m, const dfx_cli_masked *s, void *user)
{
    const edit_run *e = user;
    const dfx_edit_params *p = &e->p;
    const dfx_edit_result *r = &e->r;

    if (m->json) {
        cJSON *o = dfx_cli_masked_json (m, s, r->unchanged), *loss = cJSON_CreateArray (),
              *mse = cJSON_CreateArray (), *outside = cJSON_CreateArray ();
        for (uint32_t k = 0; !r->unchanged && k <= r->iterations; k++) {
            cJSON_AddItemToArray (loss, cJSON_CreateNumber (r->loss[k]));
            cJSON_AddItemToArray (mse, cJSON_CreateNumber (r->guide_mse[k]));
            cJSON_AddItemToArray (outside, cJSON_CreateNumber (r->outside_rms[k]));
        }
        cJSON_AddStringToObject (o, "sampler", dfx_sampler_name (p->sampler));
        cJSON_AddNumberToObject (o, "steps", p->steps);
        cJSON_AddNumberToObject (o, "strength", p->strength);
        cJSON_AddNumberToObject (o, "sigma_start", r->sigma_start);
        cJSON_AddStringToObject (o, "start", starts[p->start]);
        cJSON_AddStringToObject (o, "optimizer", optimizers[p->optimizer]);
        cJSON_AddStringToObject (o, "adjoint", adjoints[r->adjoint]);
        cJSON_AddNumberToObject (o, "network_steps", r->network_steps);
        cJSON_AddNumberToObject (o, "step_size", p->step_size);
        cJSON_AddNumberToObject (o, "iterations", r->iterations);
        cJSON_AddNumberToObject (o, "feather", p->feather);
        cJSON_AddBoolToObject (o, "raw", p->raw);
        dfx_cli_json_window (o, r->window_x, r->window_y, r->window_width, r->window_height);
        cJSON_AddItemToObject (o, "loss", loss);
        cJSON_AddItemToObject (o, "guide_mse", mse);
        cJSON_AddItemToObject (o, "outside_rms", outside);
        cJSON_AddNumberToObject (o, "nfe", r->nfe);
        cJSON_AddNumberToObject (o, "seconds", r->seconds);
        cJSON_AddNumberToObject (o, "seconds_forward", r->seconds_forward);
        cJSON_AddNumberToObject (o, "seconds_adjoint", r->seconds_adjoint);
        cJSON_AddNumberToObject (o, "state_bytes", (double) r->state_bytes);
        cJSON_AddStringToObject (o, "warning", r->warning);
        dfx_cli_print_json (o);
    } else {
        if (r->unchanged)
            printf ("%s: unchanged\n", m->output);
        else
            printf ("%s: %u iterations, loss %.4g -> %.4g, guide mse %.4g -> %.4g, %u network evaluations, %.1f s\n",
                    m->output, r->iterations, r->loss[0], r->loss[r->iterations], r->guide_mse[0],
                    r->guide_mse[r->iterations], r->nfe, r->seconds);
    }
    return r->warning;
}

int
dfx_cli_edit (int argc, char **argv)
{
    edit_run e;
    dfx_edit_params_defaults (&e.p);
    dfx_cli_masked_args m = {.cmd = "edit", .usage = usage, .has_guide = 1, .raw = &e.p.raw,
                             .global_attention = &e.p.global_attention, .option = option, .compute = compute,
                             .report = report, .user = &e};
    return dfx_cli_masked_main (&m, argc, argv);
}
