/* lincomb.comp — out[oo + i] = alpha·x[ox + i] + beta·y[oy + i] + gamma over n float32 elements
 * (grid-stride loop).  Each operand has its own element offset, so one dispatch can address one
 * item of a batch, a constant vector, or a slice of an arena.  out may be the same range as x or y
 * (each element is read before it is written), never a partly overlapping one. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n, off_out, off_x, off_y; float alpha, beta, gamma; } p;
layout (std430, binding = 0) buffer Out { float o[]; };
layout (std430, binding = 1) readonly buffer X { float x[]; };
layout (std430, binding = 2) readonly buffer Y { float y[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
        o[p.off_out + i] = fma (p.alpha, x[p.off_x + i], fma (p.beta, y[p.off_y + i], p.gamma));
}
