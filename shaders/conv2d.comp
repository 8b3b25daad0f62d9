/* conv2d.comp — 2-D convolution (NCHW, OIHW weights, square kernel) as an
 * implicit GEMM: C(co, pixel) = Σ_k W(co, k)·X(k, pixel) with X gathered from
 * the input on the fly (no im2col buffer).  Shared-memory tiles BK deep and a
 * TM×TN register micro-tile per invocation.  Folded in: nearest ×2 upsampling
 * of the input (UP), asymmetric padding (pad_t/pad_l; the far side is the
 * bounds check, which gives diffusers' pad-right-bottom downsampling), and
 * the epilogue out = out_scale·(conv + bias + temb[n, co] + residual). */
#version 450
layout (local_size_x_id = 0, local_size_y_id = 1) in;
layout (constant_id = 2) const uint TM = 4;
layout (constant_id = 3) const uint TN = 4;
layout (constant_id = 4) const uint BK = 16;

const uint BM = gl_WorkGroupSize.y * TM;
const uint BN = gl_WorkGroupSize.x * TN;
const uint NT = gl_WorkGroupSize.x * gl_WorkGroupSize.y;

layout (push_constant) uniform Push {
    uint batch, cin, h, w;      /* input as stored (before upsampling) */
    uint cout, oh, ow;
    uint ks, stride, pad_t, pad_l, up;
    uint in_off, w_off, bias_off, out_off;
    uint temb_off, temb_stride, res_off;
    uint flags;                 /* 1 bias, 2 temb, 4 residual */
    float out_scale;
} p;

layout (std430, binding = 0) readonly buffer In { float x[]; };
layout (std430, binding = 1) readonly buffer Wt { float wt[]; };
layout (std430, binding = 2) readonly buffer Bias { float bias[]; };
layout (std430, binding = 3) readonly buffer Temb { float temb[]; };
layout (std430, binding = 4) readonly buffer Res { float res[]; };
layout (std430, binding = 5) writeonly buffer Out { float o[]; };

shared float As[BK * BM];
shared float Bs[BK * BN];

void main ()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * gl_WorkGroupSize.x + tx;
    uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    uint K = p.cin * p.ks * p.ks, KK = p.ks * p.ks;
    uint P = p.oh * p.ow, N = p.batch * P;
    uint he = p.h << p.up, we = p.w << p.up;
    float acc[TM * TN];
    for (uint r = 0; r < TM * TN; r++)
        acc[r] = 0.0;
    float ar[TM], br[TN];

    for (uint k0 = 0; k0 < K; k0 += BK) {
        for (uint idx = tid; idx < BK * BM; idx += NT) {
            uint kk = idx / BM, i = idx % BM;
            uint gi = row0 + i, gk = k0 + kk;
            As[idx] = (gi < p.cout && gk < K) ? wt[p.w_off + gi * K + gk] : 0.0;
        }
        for (uint idx = tid; idx < BK * BN; idx += NT) {
            uint kk = idx / BN, j = idx % BN;
            uint gj = col0 + j, gk = k0 + kk;
            float v = 0.0;
            if (gj < N && gk < K) {
                uint ci = gk / KK, r = gk % KK;
                uint n = gj / P, q = gj % P;
                int iy = int ((q / p.ow) * p.stride + r / p.ks) - int (p.pad_t);
                int ix = int ((q % p.ow) * p.stride + r % p.ks) - int (p.pad_l);
                if (iy >= 0 && ix >= 0 && uint (iy) < he && uint (ix) < we)
                    v = x[p.in_off + ((n * p.cin + ci) * p.h + (uint (iy) >> p.up)) * p.w + (uint (ix) >> p.up)];
            }
            Bs[idx] = v;
        }
        barrier (); /* tiles complete before use */
        for (uint kk = 0; kk < BK; kk++) {
            for (uint r = 0; r < TM; r++)
                ar[r] = As[kk * BM + ty + r * gl_WorkGroupSize.y];
            for (uint q = 0; q < TN; q++)
                br[q] = Bs[kk * BN + tx + q * gl_WorkGroupSize.x];
            for (uint r = 0; r < TM; r++)
                for (uint q = 0; q < TN; q++)
                    acc[r * TN + q] = fma (ar[r], br[q], acc[r * TN + q]);
        }
        barrier (); /* all reads done before the next tile overwrites */
    }
    for (uint r = 0; r < TM; r++) {
        uint co = row0 + ty + r * gl_WorkGroupSize.y;
        if (co >= p.cout)
            continue;
        for (uint q = 0; q < TN; q++) {
            uint gj = col0 + tx + q * gl_WorkGroupSize.x;
            if (gj >= N)
                continue;
            uint n = gj / P, pix = gj % P;
            uint oi = (n * p.cout + co) * P + pix;
            float v = acc[r * TN + q];
            if ((p.flags & 1u) != 0)
                v += bias[p.bias_off + co];
            if ((p.flags & 2u) != 0)
                v += temb[p.temb_off + n * p.temb_stride + co];
            if ((p.flags & 4u) != 0)
                v += res[p.res_off + oi];
            o[p.out_off + oi] = p.out_scale * v;
        }
    }
}
