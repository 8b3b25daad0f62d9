/* ref-conv2d.c — direct double-precision convolution (seven nested loops). */
#include "ref.h"

void
dfx_ref_conv2d (double *out, const float *in, uint32_t b, uint32_t cin, uint32_t h, uint32_t w, int up,
                const float *weight, uint32_t cout, uint32_t ks, uint32_t stride, uint32_t pad_t, uint32_t pad_l,
                uint32_t oh, uint32_t ow, const float *bias, const float *temb, uint32_t temb_stride, const float *res,
                double out_scale)
{
    long he = up ? 2l * h : h, we = up ? 2l * w : w;
    for (uint32_t n = 0; n < b; n++)
        for (uint32_t co = 0; co < cout; co++)
            for (uint32_t oy = 0; oy < oh; oy++)
                for (uint32_t ox = 0; ox < ow; ox++) {
                    double s = 0.0;
                    for (uint32_t ci = 0; ci < cin; ci++)
                        for (uint32_t ky = 0; ky < ks; ky++)
                            for (uint32_t kx = 0; kx < ks; kx++) {
                                long iy = (long) (oy * stride + ky) - pad_t, ix = (long) (ox * stride + kx) - pad_l;
                                if (iy < 0 || ix < 0 || iy >= he || ix >= we)
                                    continue;
                                if (up)
                                    iy /= 2, ix /= 2;
                                s += (double) weight[((size_t) (co * cin + ci) * ks + ky) * ks + kx] *
                                     in[((size_t) (n * cin + ci) * h + (size_t) iy) * w + (size_t) ix];
                            }
                    size_t oi = ((size_t) (n * cout + co) * oh + oy) * ow + ox;
                    if (bias)
                        s += bias[co];
                    if (temb)
                        s += temb[(size_t) n * temb_stride + co];
                    if (res)
                        s += res[oi];
                    out[oi] = out_scale * s;
                }
}
