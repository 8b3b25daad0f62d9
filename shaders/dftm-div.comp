/* dftm-div.comp — the per-pixel DF-TM divergence integrand in the EDM view
 * (MATH.md "The Fisher head"): with u = ln σ̃, the PF-ODE dx̃/du = x̃ − x̂0 has
 * ∂/∂x̃_i of its component i equal to 1 − C_ii/σ̃², C_ii = m_i − x̂0_i², m the
 * Fisher head's E[x0⊙x0 | x].  C_ii is clamped to [cmin, cmax] (cmin = 0: m ≥
 * x̂0⊙x̂0; cmax at most the data range's variance; ±FLT_MAX: no clamp, for a
 * variance-ratio head).  out[oo + i] = 1 − clamp(...)·inv_s2. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n, off_out, off_x0, off_m; float inv_s2, cmin, cmax; } p;
layout (std430, binding = 0) writeonly buffer Out { float o[]; };
layout (std430, binding = 1) readonly buffer X0 { float x0[]; };
layout (std430, binding = 2) readonly buffer M { float m[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float a = x0[p.off_x0 + i];
        float c = clamp (m[p.off_m + i] - a * a, p.cmin, p.cmax);
        o[p.off_out + i] = 1.0 - c * p.inv_s2;
    }
}
