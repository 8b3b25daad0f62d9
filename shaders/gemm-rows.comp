/* gemm-rows.comp — gemm.comp's product for a few rows of C (m < 8: the
 * U-Net's time-embedding projections, m = batch), on lavapipe-like CPU
 * devices.  Same Push block and epilogue as gemm.comp.
 *
 * One invocation per element of C: a plain loop over k, no shared memory,
 * no barriers, nothing unrolled.  lavapipe compiles every kernel variant at
 * its first dispatch; this one takes about 0.1 s where gemm-lvp's unrolled
 * 16-row tile takes 3-4 s, and gemm.comp's 256-invocation tiles with
 * barriers cost more per call than this does at such sizes.  Any strides. */
#version 450
layout (local_size_x_id = 0) in;

struct Mat { uint off, row, col, outer, inner; };

layout (push_constant) uniform Push {
    uint m, n, k, inner_count;
    Mat a, b, c;
    uint r_off, bias_off, bias_mode, has_res;
    float alpha, beta, out_scale;
} p;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) buffer C { float c[]; };
layout (std430, binding = 3) readonly buffer Bias { float bias[]; };
layout (std430, binding = 4) readonly buffer Res { float res[]; };

uint base (Mat x, uint z)
{
    return x.off + (z / p.inner_count) * x.outer + (z % p.inner_count) * x.inner;
}

void main ()
{
    uint j = gl_GlobalInvocationID.x, i = gl_WorkGroupID.y, z = gl_WorkGroupID.z;
    if (j >= p.n)
        return;
    uint ai = base (p.a, z) + i * p.a.row, bj = base (p.b, z) + j * p.b.col;
    float acc = 0.0;
    for (uint k = 0; k < p.k; k++)
        acc = fma (a[ai + k * p.a.col], b[bj + k * p.b.row], acc);
    uint ci = i * p.c.row + j * p.c.col;
    float v = p.alpha * acc;
    if (p.bias_mode == 1)
        v += bias[p.bias_off + i];
    else if (p.bias_mode == 2)
        v += bias[p.bias_off + j];
    if (p.beta != 0.0)
        v = fma (p.beta, c[base (p.c, z) + ci], v);
    if (p.has_res != 0)
        v += res[base (Mat (p.r_off, p.c.row, p.c.col, p.c.outer, p.c.inner), z) + ci];
    c[base (p.c, z) + ci] = p.out_scale * v;
}
