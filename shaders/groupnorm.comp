/* groupnorm.comp — GroupNorm over NCHW with fp32 statistics (two passes:
 * mean, then centred variance), fused with the optional per-(n, c)
 * scale/shift of a time embedding (h·(1 + scale) + shift) and SiLU.  One
 * workgroup per (group, batch item). */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push {
    uint batch, c, hw, groups;
    uint in_off, out_off, gamma_off, beta_off;
    uint ss_off, ss_stride; /* scale at ss_off + n·ss_stride + ch, shift C further */
    uint flags;             /* 1 SiLU, 2 scale/shift, 4 affine (gamma, beta) */
    float eps;
} p;

layout (std430, binding = 0) readonly buffer In { float x[]; };
layout (std430, binding = 1) readonly buffer Params { float prm[]; };
layout (std430, binding = 2) readonly buffer SS { float ss[]; };
layout (std430, binding = 3) writeonly buffer Out { float o[]; };

shared float red[gl_WorkGroupSize.x];

float workgroup_sum (float v)
{
    uint l = gl_LocalInvocationID.x;
    red[l] = v;
    barrier ();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (l < s)
            red[l] += red[l + s];
        barrier ();
    }
    float r = red[0];
    barrier (); /* everyone has read red[0] before it is reused */
    return r;
}

void main ()
{
    uint g = gl_WorkGroupID.x, n = gl_WorkGroupID.y;
    uint cpg = p.c / p.groups;
    uint count = cpg * p.hw;
    uint base = (n * p.c + g * cpg) * p.hw;
    uint l = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = l; i < count; i += gl_WorkGroupSize.x)
        s += x[p.in_off + base + i];
    float mean = workgroup_sum (s) / float (count);
    float v = 0.0;
    for (uint i = l; i < count; i += gl_WorkGroupSize.x) {
        float d = x[p.in_off + base + i] - mean;
        v += d * d;
    }
    float rstd = inversesqrt (workgroup_sum (v) / float (count) + p.eps);
    for (uint i = l; i < count; i += gl_WorkGroupSize.x) {
        uint ch = g * cpg + i / p.hw;
        float y = (x[p.in_off + base + i] - mean) * rstd;
        if ((p.flags & 4u) != 0)
            y = y * prm[p.gamma_off + ch] + prm[p.beta_off + ch];
        if ((p.flags & 2u) != 0) {
            uint t = p.ss_off + n * p.ss_stride + ch;
            y = y * (1.0 + ss[t]) + ss[t + p.c];
        }
        if ((p.flags & 1u) != 0)
            y = y / (1.0 + exp (-y));
        o[p.out_off + base + i] = y;
    }
}
