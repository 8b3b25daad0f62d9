/* groupnorm-lvp.comp — the CPU-device (lavapipe) variant of groupnorm.comp:
 * a workgroup is one subgroup and its reductions are subgroupAdd, so there
 * are no barriers (about 1 µs per workgroup each on lavapipe, and the tree
 * reduction needs sixteen).  Same push block, passes and fusions.
 *
 * V4 = 1 (hw and both offsets multiples of 4): the passes load and store
 * vec4s and the normalisation runs channel by channel with that channel's
 * gamma, beta, scale and shift loaded once; lavapipe pays a bounds-checked
 * scalar load per lane for every lane-varying load, whatever its width, so a
 * vec4 costs about what a float does. */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint V4 = 0;

layout (push_constant) uniform Push {
    uint batch, c, hw, groups;
    uint in_off, out_off, gamma_off, beta_off;
    uint ss_off, ss_stride; /* scale at ss_off + n·ss_stride + ch, shift C further */
    uint flags;             /* 1 SiLU, 2 scale/shift, 4 affine (gamma, beta) */
    float eps;
} p;

layout (std430, binding = 0) readonly buffer In { float x[]; };
layout (std430, binding = 0) readonly buffer In4 { vec4 x4[]; };
layout (std430, binding = 1) readonly buffer Params { float prm[]; };
layout (std430, binding = 2) readonly buffer SS { float ss[]; };
layout (std430, binding = 3) writeonly buffer Out { float o[]; };
layout (std430, binding = 3) writeonly buffer Out4 { vec4 o4[]; };

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
    if (V4 != 0) {
        uint hw4 = p.hw / 4, n4 = cpg * hw4, i0 = (p.in_off + base) / 4, o0 = (p.out_off + base) / 4;
        vec4 s4 = vec4 (0.0);
        for (uint i = l; i < n4; i += gl_WorkGroupSize.x)
            s4 += x4[i0 + i];
        float mean = workgroup_sum ((s4.x + s4.y) + (s4.z + s4.w)) / float (count);
        vec4 v4 = vec4 (0.0);
        for (uint i = l; i < n4; i += gl_WorkGroupSize.x) {
            vec4 d = x4[i0 + i] - mean;
            v4 += d * d;
        }
        float rstd = inversesqrt (workgroup_sum ((v4.x + v4.y) + (v4.z + v4.w)) / float (count) + p.eps);
        for (uint cc = 0; cc < cpg; cc++) {
            uint ch = g * cpg + cc;
            float gm = 1.0, bt = 0.0, sc = 1.0, sh = 0.0;
            if ((p.flags & 4u) != 0)
                gm = prm[p.gamma_off + ch], bt = prm[p.beta_off + ch];
            if ((p.flags & 2u) != 0) {
                uint t = p.ss_off + n * p.ss_stride + ch;
                sc = 1.0 + ss[t], sh = ss[t + p.c];
            }
            for (uint i = l; i < hw4; i += gl_WorkGroupSize.x) {
                vec4 y = (x4[i0 + cc * hw4 + i] - mean) * rstd;
                if ((p.flags & 4u) != 0)
                    y = y * gm + bt;
                if ((p.flags & 2u) != 0)
                    y = y * sc + sh;
                if ((p.flags & 1u) != 0)
                    y = y / (1.0 + exp (-y));
                o4[o0 + cc * hw4 + i] = y;
            }
        }
        return;
    }
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
