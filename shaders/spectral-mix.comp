/* spectral-mix.comp — a C×C complex matrix per frequency bin applied to the channel vector there,
 * in place: z[n][c][k] = Σ_j A[k][c][j] · z[n][j][k] for every bin k of np and batch item n.
 * z is (batch, C, np) interleaved complex, A is (np, C, C) interleaved complex.  C is a
 * specialization constant (the channel count); one invocation owns one (k, n) and reads its C
 * inputs before writing, so in place is safe. */
#version 450
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint C = 1;

layout (push_constant) uniform Push { uint np, batch; } p;
layout (std430, binding = 0) buffer Z { vec2 z[]; };
layout (std430, binding = 1) readonly buffer A { vec2 a[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint n = gl_WorkGroupID.y;
    if (n >= p.batch)
        return;
    for (uint k = gl_GlobalInvocationID.x; k < p.np; k += stride) {
        vec2 v[C];
        for (uint j = 0; j < C; j++)
            v[j] = z[(n * C + j) * p.np + k];
        for (uint c = 0; c < C; c++) {
            vec2 acc = vec2 (0.0);
            for (uint j = 0; j < C; j++) {
                vec2 m = a[(k * C + c) * C + j];
                acc += vec2 (m.x * v[j].x - m.y * v[j].y, m.x * v[j].y + m.y * v[j].x);
            }
            z[(n * C + c) * p.np + k] = acc;
        }
    }
}
