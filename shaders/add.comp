/* add.comp — out = a + b over n float32 elements from element off (grid-stride loop). */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n; float alpha; uint off; } p;
layout (std430, binding = 0) writeonly buffer Out { float o[]; };
layout (std430, binding = 1) readonly buffer A { float a[]; };
layout (std430, binding = 2) readonly buffer B { float b[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
        o[p.off + i] = a[p.off + i] + b[p.off + i];
}
