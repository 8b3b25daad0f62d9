/* ocm-step.comp — one step of the stochastic samplers in the EDM view
 * (MATH.md "OCM", compute/sample/sampler-ocm.c):
 *
 *     x_i ← a·x̂0_i + b·x_i + √(min(v0 + k·clamp(m_i − x̂0_i², 0, cmax), vmax))·z_i
 *
 * with z unit Gaussian noise.  k = 0 is the fixed-variance DDPM step (m is
 * then not read); vmax clips the variance of the last step. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n; float a, b, v0, k, cmax, vmax; } p;
layout (std430, binding = 0) buffer X { float x[]; };
layout (std430, binding = 1) readonly buffer X0 { float x0[]; };
layout (std430, binding = 2) readonly buffer M { float m[]; };
layout (std430, binding = 3) readonly buffer Z { float z[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float e = x0[i];
        float v = p.v0;
        if (p.k != 0.0)
            v += p.k * clamp (m[i] - e * e, 0.0, p.cmax);
        x[i] = p.a * e + p.b * x[i] + sqrt (min (v, p.vmax)) * z[i];
    }
}
