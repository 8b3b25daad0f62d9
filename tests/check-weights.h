/* check-weights.h — a model folder with random weights, for the tests that
 * load one (test-unet-errors.c, test-vae-errors.c).
 *
 * Tensors are collected one by one (uniform in [-1, 1] / sqrt(fan-in) from a
 * fixed seed), optionally leaving one out or giving one a wrong first
 * extent, and written as DIR/SUB/diffusion_pytorch_model.safetensors next
 * to DIR/SUB/config.json.  Which tensors a model has is the caller's
 * business.
 */
#ifndef DFX_CHECK_WEIGHTS_H
#define DFX_CHECK_WEIGHTS_H

#include "check.h"
#include "dfx-private.h"
#include "model/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct check_weights {
    dfx__st_out t[256];
    int n;
    check_rng rng;
    const char *skip;    /* leave this tensor out */
    const char *reshape; /* give this tensor a wrong shape */
} check_weights;

/* Adds tensor name of ndim extents shape to w (a check_weights *); the
 * signature of dfx__unet_config_foreach_tensor()'s callback.  Returns 0. */
static inline int
check_weights_add (void *user, const char *name, int ndim, const int64_t *shape)
{
    check_weights *w = user;
    if (w->skip && strcmp (name, w->skip) == 0)
        return 0;
    dfx__st_out *o = &w->t[w->n++];
    o->name = strdup (name);
    o->ndim = ndim;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        o->shape[i] = shape[i];
        count *= (size_t) shape[i];
    }
    if (w->reshape && strcmp (name, w->reshape) == 0)
        o->shape[0] += 1, count = count / (size_t) shape[0] * (size_t) (shape[0] + 1);
    float *d = malloc (count * sizeof (float));
    size_t fan = count / (size_t) o->shape[0];
    for (size_t i = 0; i < count; i++)
        d[i] = check_uniform (&w->rng, -1.0f, 1.0f) / sqrtf ((float) (fan ? fan : 1));
    o->data = d;
    return 0;
}

/* Writes dir/sub/config.json (the text config) and dir/sub's weights from
 * w, then frees w's tensors.  Returns the status of the weights' write. */
static inline dfx_status
check_weights_save (dfx_ctx *ctx, const char *dir, const char *sub, const char *config, check_weights *w)
{
    char path[512];
    mkdir (dir, 0755);
    snprintf (path, sizeof path, "%s/%s", dir, sub);
    mkdir (path, 0755);
    snprintf (path, sizeof path, "%s/%s/config.json", dir, sub);
    FILE *f = fopen (path, "w");
    if (f) {
        fputs (config, f);
        fclose (f);
    }
    snprintf (path, sizeof path, "%s/%s/diffusion_pytorch_model.safetensors", dir, sub);
    dfx_status st = dfx__st_write_f32 (ctx, path, w->t, w->n);
    for (int i = 0; i < w->n; i++) {
        free ((char *) w->t[i].name);
        free ((float *) w->t[i].data);
    }
    w->n = 0;
    return st;
}

#endif
