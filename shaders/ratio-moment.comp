/* ratio-moment.comp — a variance-ratio Fisher head's output as a second
 * moment (MATH.md "The Fisher head"; fisher/config.json
 * "_dfx_fisher_output": "variance_ratio"): the head gives r ≈ diag C/σ̃², and
 * m = x̂0⊙x̂0 + σ̃² r, in place over r.  m[om + i] ← x0[ox + i]² + s2·m[om + i]. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n, off_m, off_x0; float s2; } p;
layout (std430, binding = 0) buffer M { float m[]; };
layout (std430, binding = 1) readonly buffer X0 { float x0[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float a = x0[p.off_x0 + i];
        m[p.off_m + i] = fma (p.s2, m[p.off_m + i], a * a);
    }
}
