/* cli-plot.c — the diagnostics of `dfx diagnose` as a plot image: two
 * log-log panels (left: the Fisher information from the head and from the
 * score norm, and its rate; right: the MMSE from the head, as measured, and
 * its rate) with decade ticks, grid, axis labels and a legend, drawn into an
 * RGB canvas with the 5×7 font of cli-font.c and written as PNG.  A small
 * rasteriser on purpose: no plotting library in the build.  Values ≤ 0 or
 * not finite (a noisy rate can dip below 0) are left out of a curve. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct canvas {
    int w, h;
    uint8_t *pix; /* RGB */
} canvas;

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static const rgb BLACK = {0, 0, 0}, GRID = {225, 225, 225}, GREY = {120, 120, 120};

static void
put (canvas *c, int x, int y, rgb k)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->pix + ((size_t) y * c->w + x) * 3;
    p[0] = k.r, p[1] = k.g, p[2] = k.b;
}

static void
rect (canvas *c, int x0, int y0, int x1, int y1, rgb k)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            put (c, x, y, k);
}

/* A line of width t (square brush); dash > 0: on/off segments of that length. */
static void
line (canvas *c, int x0, int y0, int x1, int y1, rgb k, int t, int dash)
{
    int dx = abs (x1 - x0), dy = -abs (y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (int step = 0;; step++) {
        if (dash <= 0 || (step / dash) % 2 == 0)
            rect (c, x0 - t / 2, y0 - t / 2, x0 + (t - 1) / 2, y0 + (t - 1) / 2, k);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy)
            e += dy, x0 += sx;
        if (e2 <= dx)
            e += dx, y0 += sy;
    }
}

static int
text_width (const char *s, int scale)
{
    return (int) strlen (s) * (DFX_CLI_FONT_W + 1) * scale;
}

/* Text with its top-left corner at (x, y); vertical: rotated 90° counter-
 * clockwise, reading upward from (x, y) as its bottom-left corner. */
static void
text (canvas *c, int x, int y, const char *s, int scale, rgb k, int vertical)
{
    for (int i = 0; s[i]; i++)
        for (int gy = 0; gy < DFX_CLI_FONT_H; gy++)
            for (int gx = 0; gx < DFX_CLI_FONT_W; gx++)
                if (dfx_cli_font_pixel (s[i], gx, gy)) {
                    int ox = (i * (DFX_CLI_FONT_W + 1) + gx) * scale, oy = gy * scale;
                    for (int a = 0; a < scale; a++)
                        for (int b = 0; b < scale; b++) {
                            if (vertical)
                                put (c, x + oy + b, y - ox - a, k);
                            else
                                put (c, x + ox + a, y + oy + b, k);
                        }
                }
}

typedef struct series {
    const char *name;
    rgb color;
    int dash, markers;
    const double *x, *y; /* n values */
} series;

typedef struct panel {
    int x, y, w, h; /* the plotting area */
    double lx0, lx1, ly0, ly1; /* log10 ranges */
} panel;

static int
px (const panel *p, double v)
{
    return p->x + (int) lround ((log10 (v) - p->lx0) / (p->lx1 - p->lx0) * (p->w - 1));
}

static int
py (const panel *p, double v)
{
    return p->y + p->h - 1 - (int) lround ((log10 (v) - p->ly0) / (p->ly1 - p->ly0) * (p->h - 1));
}

/* One panel: axes box at (x, y) of w × h pixels (labels outside it). */
static void
draw_panel (canvas *c, int x, int y, int w, int h, const series *s, int ns, int n, const char *xlabel,
            const char *ylabel, const char *title)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < n; i++)
            if (s[k].x[i] > 0 && isfinite (s[k].x[i]) && s[k].y[i] > 0 && isfinite (s[k].y[i])) {
                xmin = fmin (xmin, s[k].x[i]), xmax = fmax (xmax, s[k].x[i]);
                ymin = fmin (ymin, s[k].y[i]), ymax = fmax (ymax, s[k].y[i]);
            }
    if (!(xmax >= xmin) || !(ymax >= ymin))
        xmin = ymin = 1, xmax = ymax = 10;
    panel p = {x, y, w, h, floor (log10 (xmin)), ceil (log10 (xmax)), floor (log10 (ymin)), ceil (log10 (ymax))};
    if (p.lx1 <= p.lx0)
        p.lx1 = p.lx0 + 1;
    if (p.ly1 <= p.ly0)
        p.ly1 = p.ly0 + 1;
    /* with many decades, label every k-th */
    int kx = (int) ceil ((p.lx1 - p.lx0) / 8), ky = (int) ceil ((p.ly1 - p.ly0) / 10);
    char buf[32];
    for (int e = (int) p.lx0; e <= (int) p.lx1; e++) {
        int xx = px (&p, pow (10, e));
        line (c, xx, y, xx, y + h - 1, GRID, 1, 0);
        line (c, xx, y + h - 1, xx, y + h + 5, BLACK, 1, 0);
        if ((e - (int) p.lx0) % kx == 0) {
            snprintf (buf, sizeof buf, "1E%d", e);
            text (c, xx - text_width (buf, 2) / 2, y + h + 10, buf, 2, BLACK, 0);
        }
    }
    for (int e = (int) p.ly0; e <= (int) p.ly1; e++) {
        int yy = py (&p, pow (10, e));
        line (c, x, yy, x + w - 1, yy, GRID, 1, 0);
        line (c, x - 6, yy, x, yy, BLACK, 1, 0);
        if ((e - (int) p.ly0) % ky == 0) {
            snprintf (buf, sizeof buf, "1E%d", e);
            text (c, x - 10 - text_width (buf, 2), yy - DFX_CLI_FONT_H, buf, 2, BLACK, 0);
        }
    }
    line (c, x, y, x + w - 1, y, BLACK, 1, 0);
    line (c, x, y + h - 1, x + w - 1, y + h - 1, BLACK, 1, 0);
    line (c, x, y, x, y + h - 1, BLACK, 1, 0);
    line (c, x + w - 1, y, x + w - 1, y + h - 1, BLACK, 1, 0);
    text (c, x + w / 2 - text_width (xlabel, 2) / 2, y + h + 34, xlabel, 2, BLACK, 0);
    text (c, x - 84, y + h / 2 + text_width (ylabel, 2) / 2, ylabel, 2, BLACK, 1);
    text (c, x + w / 2 - text_width (title, 2) / 2, y - 24, title, 2, BLACK, 0);
    for (int k = 0; k < ns; k++) {
        int have = 0, lx = 0, ly = 0;
        for (int i = 0; i < n; i++) {
            if (!(s[k].x[i] > 0 && isfinite (s[k].x[i]) && s[k].y[i] > 0 && isfinite (s[k].y[i]))) {
                have = 0;
                continue;
            }
            int xx = px (&p, s[k].x[i]), yy = py (&p, s[k].y[i]);
            if (have)
                line (c, lx, ly, xx, yy, s[k].color, 3, s[k].dash);
            if (s[k].markers)
                rect (c, xx - 4, yy - 4, xx + 4, yy + 4, s[k].color);
            have = 1, lx = xx, ly = yy;
        }
    }
    /* legend, top right inside the box */
    int lw = 0;
    for (int k = 0; k < ns; k++)
        lw = text_width (s[k].name, 2) > lw ? text_width (s[k].name, 2) : lw;
    int bx = x + w - lw - 62, by = y + 8, bh = ns * 22 + 10;
    rect (c, bx, by, x + w - 9, by + bh, (rgb){255, 255, 255});
    line (c, bx, by, x + w - 9, by, GREY, 1, 0);
    line (c, bx, by + bh, x + w - 9, by + bh, GREY, 1, 0);
    line (c, bx, by, bx, by + bh, GREY, 1, 0);
    line (c, x + w - 9, by, x + w - 9, by + bh, GREY, 1, 0);
    for (int k = 0; k < ns; k++) {
        int ly = by + 12 + k * 22;
        line (c, bx + 8, ly + 6, bx + 40, ly + 6, s[k].color, 3, s[k].dash);
        if (s[k].markers)
            rect (c, bx + 20, ly + 2, bx + 28, ly + 10, s[k].color);
        text (c, bx + 48, ly, s[k].name, 2, BLACK, 0);
    }
}

int
dfx_cli_plot_diagnose (const char *path, const dfx_diagnose_row *rows, uint32_t n, uint32_t d, const char *title)
{
    canvas c = {1500, 700, NULL};
    double *v = malloc ((size_t) n * 8 * sizeof *v);
    c.pix = malloc ((size_t) c.w * c.h * 3);
    if (!c.pix || !v) {
        free (c.pix), free (v);
        fprintf (stderr, "dfx diagnose: out of host memory for the plot\n");
        return -1;
    }
    memset (c.pix, 255, (size_t) c.w * c.h * 3);
    double *sig = v, *jh = v + n, *js = v + 2 * n, *fir = v + 3 * n, *mm = v + 4 * n, *md = v + 5 * n,
           *mr = v + 6 * n, *dt = v + 7 * n;
    for (uint32_t j = 0; j < n; j++) {
        sig[j] = rows[j].sigma, jh[j] = rows[j].j_head, js[j] = rows[j].j_score, fir[j] = rows[j].fir;
        mm[j] = rows[j].mmse, md[j] = rows[j].mmse_direct, mr[j] = rows[j].mmse_rate;
        dt[j] = d / rows[j].tau;
    }
    const rgb blue = {31, 100, 200}, orange = {230, 120, 20}, green = {30, 150, 60}, purple = {140, 60, 170};
    series left[] = {{"J from the Fisher head", blue, 0, 1, sig, jh},
                     {"J from the score norm", orange, 8, 1, sig, js},
                     {"FIR E|F|^2 (Hutchinson)", green, 0, 1, sig, fir},
                     {"d/tau (no data)", GREY, 4, 0, sig, dt}};
    series right[] = {{"MMSE = tau d - tau^2 J (head)", blue, 0, 1, sig, mm},
                      {"MMSE measured E|x0 - x0^|^2", orange, 8, 1, sig, md},
                      {"MMSE rate d - 2tau J + tau^2 FIR", purple, 0, 1, sig, mr}};
    text (&c, 20, 14, title, 2, BLACK, 0);
    draw_panel (&c, 120, 90, 580, 500, left, 4, (int) n, "sigma (tau = sigma^2)", "Fisher information, FIR",
                "Fisher information and its rate");
    draw_panel (&c, 880, 90, 580, 500, right, 3, (int) n, "sigma (tau = sigma^2)", "MMSE, MMSE rate",
                "MMSE and its rate");
    int rc = dfx_cli_png_write ("diagnose", path, c.pix, (uint32_t) c.w, (uint32_t) c.h, 3);
    free (c.pix), free (v);
    return rc;
}

int
dfx_cli_plot_two (const char *cmd, const char *path, const char *title, int n, const dfx_cli_panel *left,
                  const dfx_cli_panel *right)
{
    canvas c = {1500, 700, NULL};
    c.pix = malloc ((size_t) c.w * c.h * 3);
    if (!c.pix) {
        fprintf (stderr, "dfx %s: out of host memory for the plot\n", cmd);
        return -1;
    }
    memset (c.pix, 255, (size_t) c.w * c.h * 3);
    text (&c, 20, 14, title, 2, BLACK, 0);
    const dfx_cli_panel *pp[2] = {left, right};
    for (int k = 0; k < 2; k++) {
        series s[DFX_CLI_PANEL_MAX];
        const int ns = pp[k]->n_series < DFX_CLI_PANEL_MAX ? pp[k]->n_series : DFX_CLI_PANEL_MAX;
        for (int i = 0; i < ns; i++) {
            const dfx_cli_series *q = pp[k]->series + i;
            s[i] = (series){q->name, (rgb){q->r, q->g, q->b}, q->dash, q->markers, q->x, q->y};
        }
        draw_panel (&c, k ? 880 : 120, 90, 580, 500, s, ns, n, pp[k]->xlabel, pp[k]->ylabel, pp[k]->title);
    }
    int rc = dfx_cli_png_write (cmd, path, c.pix, (uint32_t) c.w, (uint32_t) c.h, 3);
    free (c.pix);
    return rc;
}
