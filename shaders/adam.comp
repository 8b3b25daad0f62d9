/* adam.comp — one Adam update of n float32 parameters (grid-stride loop):
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
 *   z ← z − lr (c1 m) / (√(c2 v) + ε),  c1 = 1/(1 − β1^t), c2 = 1/(1 − β2^t).
 * The guided edit's optimiser on the start point (compute/edit/edit-optim.c). */
#version 450
layout (local_size_x_id = 0) in;

/* omb1, omb2: 1 − β1, 1 − β2 rounded once from double (1 − 0.999f is 1.3e-5 off). */
layout (push_constant) uniform Push { uint n; float lr, b1, b2, eps, c1, c2, omb1, omb2; } p;
layout (std430, binding = 0) buffer Z { float z[]; };
layout (std430, binding = 1) readonly buffer G { float g[]; };
layout (std430, binding = 2) buffer M { float m[]; };
layout (std430, binding = 3) buffer V { float v[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float gi = g[i];
        float mi = fma (p.b1, m[i], p.omb1 * gi);
        float vi = fma (p.b2, v[i], p.omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        z[i] -= p.lr * (p.c1 * mi) / (sqrt (p.c2 * vi) + p.eps);
    }
}
