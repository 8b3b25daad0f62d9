/* gemm.comp — batched C = out_scale·(alpha·op(A)·op(B) + bias + beta·C + R),
 * float32, as shared-memory tiles (BK deep) and a TM×TN register micro-tile
 * per invocation.  Every matrix is addressed by (offset, row stride, column
 * stride, two batch strides), so transposes, head slices of attention and
 * NCHW tensors all run through this one kernel.  gl_WorkGroupID.z is the
 * batch index z = outer·inner_count + inner.  Tile shape: specialization
 * constants. */
#version 450
layout (local_size_x_id = 0, local_size_y_id = 1) in;
layout (constant_id = 2) const uint TM = 4;  /* rows of C per invocation */
layout (constant_id = 3) const uint TN = 4;  /* columns of C per invocation */
layout (constant_id = 4) const uint BK = 16; /* K depth of a shared tile */

const uint BM = gl_WorkGroupSize.y * TM;
const uint BN = gl_WorkGroupSize.x * TN;
const uint NT = gl_WorkGroupSize.x * gl_WorkGroupSize.y;

struct Mat { uint off, row, col, outer, inner; };

layout (push_constant) uniform Push {
    uint m, n, k, inner_count;
    Mat a, b, c;
    uint r_off;        /* residual: strides of C */
    uint bias_off;
    uint bias_mode;    /* 0 none, 1 per row of C, 2 per column of C */
    uint has_res;
    float alpha, beta, out_scale;
} p;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) buffer C { float c[]; };
layout (std430, binding = 3) readonly buffer Bias { float bias[]; };
layout (std430, binding = 4) readonly buffer Res { float res[]; };

shared float As[BK * BM];
shared float Bs[BK * BN];

uint base (Mat x, uint z)
{
    return x.off + (z / p.inner_count) * x.outer + (z % p.inner_count) * x.inner;
}

void main ()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * gl_WorkGroupSize.x + tx;
    uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    uint z = gl_WorkGroupID.z;
    uint abase = base (p.a, z), bbase = base (p.b, z), cbase = base (p.c, z);
    float acc[TM * TN];
    for (uint r = 0; r < TM * TN; r++)
        acc[r] = 0.0;
    float ar[TM], br[TN];

    for (uint k0 = 0; k0 < p.k; k0 += BK) {
        for (uint idx = tid; idx < BK * BM; idx += NT) {
            uint kk = idx / BM, i = idx % BM;
            uint gi = row0 + i, gk = k0 + kk;
            As[idx] = (gi < p.m && gk < p.k) ? a[abase + gi * p.a.row + gk * p.a.col] : 0.0;
        }
        for (uint idx = tid; idx < BK * BN; idx += NT) {
            uint kk = idx / BN, j = idx % BN;
            uint gj = col0 + j, gk = k0 + kk;
            Bs[idx] = (gj < p.n && gk < p.k) ? b[bbase + gk * p.b.row + gj * p.b.col] : 0.0;
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
    uint rbase = base (Mat (p.r_off, p.c.row, p.c.col, p.c.outer, p.c.inner), z);
    for (uint r = 0; r < TM; r++) {
        uint gi = row0 + ty + r * gl_WorkGroupSize.y;
        if (gi >= p.m)
            continue;
        for (uint q = 0; q < TN; q++) {
            uint gj = col0 + tx + q * gl_WorkGroupSize.x;
            if (gj >= p.n)
                continue;
            uint ci = gi * p.c.row + gj * p.c.col;
            float v = p.alpha * acc[r * TN + q];
            if (p.bias_mode == 1)
                v += bias[p.bias_off + gi];
            else if (p.bias_mode == 2)
                v += bias[p.bias_off + gj];
            if (p.beta != 0.0)
                v = fma (p.beta, c[cbase + ci], v);
            if (p.has_res != 0)
                v += res[rbase + ci];
            c[cbase + ci] = p.out_scale * v;
        }
    }
}
