/* axpy.comp — y += alpha x over n float32 elements from element off (grid-stride loop). */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n; float alpha; uint off; } p;
layout (std430, binding = 0) buffer Y { float y[]; };
layout (std430, binding = 1) readonly buffer X { float x[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
        y[p.off + i] = fma (p.alpha, x[p.off + i], y[p.off + i]);
}
