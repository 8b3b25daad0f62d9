/* gemm.comp — C = alpha·op(A)·op(B) + beta·C, float32, row-major, as
 * shared-memory tiles (BK deep) and a TM×TN register micro-tile per
 * invocation.  Transposes are strides in the push constants, so one shader
 * serves every layout.  Tile shape is set by specialization constants. */
#version 450
layout (local_size_x_id = 0, local_size_y_id = 1) in;
layout (constant_id = 2) const uint TM = 4;  /* rows of C per invocation */
layout (constant_id = 3) const uint TN = 4;  /* columns of C per invocation */
layout (constant_id = 4) const uint BK = 16; /* K depth of a shared tile */

const uint BM = gl_WorkGroupSize.y * TM;
const uint BN = gl_WorkGroupSize.x * TN;
const uint NT = gl_WorkGroupSize.x * gl_WorkGroupSize.y;

layout (push_constant) uniform Push {
    uint m, n, k;
    uint a_row, a_col; /* A(i, kk) = a[i*a_row + kk*a_col] */
    uint b_row, b_col; /* B(kk, j) = b[kk*b_row + j*b_col] */
    float alpha, beta;
} p;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) buffer C { float c[]; };

shared float As[BK * BM];
shared float Bs[BK * BN];

void main ()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * gl_WorkGroupSize.x + tx;
    uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    float acc[TM * TN];
    for (uint r = 0; r < TM * TN; r++)
        acc[r] = 0.0;
    float ar[TM], br[TN];

    for (uint k0 = 0; k0 < p.k; k0 += BK) {
        for (uint idx = tid; idx < BK * BM; idx += NT) {
            uint kk = idx / BM, i = idx % BM;
            uint gi = row0 + i, gk = k0 + kk;
            As[idx] = (gi < p.m && gk < p.k) ? a[gi * p.a_row + gk * p.a_col] : 0.0;
        }
        for (uint idx = tid; idx < BK * BN; idx += NT) {
            uint kk = idx / BN, j = idx % BN;
            uint gj = col0 + j, gk = k0 + kk;
            Bs[idx] = (gj < p.n && gk < p.k) ? b[gk * p.b_row + gj * p.b_col] : 0.0;
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
        uint gi = row0 + ty + r * gl_WorkGroupSize.y;
        if (gi >= p.m)
            continue;
        for (uint q = 0; q < TN; q++) {
            uint gj = col0 + tx + q * gl_WorkGroupSize.x;
            if (gj >= p.n)
                continue;
            float v = p.alpha * acc[r * TN + q];
            if (p.beta != 0.0)
                v = fma (p.beta, c[gi * p.n + gj], v);
            c[gi * p.n + gj] = v;
        }
    }
}
