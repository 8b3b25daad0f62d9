/* groupnorm-lvp.comp — the CPU-device (lavapipe) variant of groupnorm.comp:
 * a workgroup is one subgroup and its reductions are subgroupAdd, so there
 * are no barriers (about 1 µs per workgroup each on lavapipe, and the tree
 * reduction needs sixteen).  Same push block, passes and fusions. */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
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

float workgroup_sum (float v)
{
    return subgroupAdd (v); /* the workgroup is one subgroup */
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
