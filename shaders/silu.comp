/* silu.comp — out = x / (1 + exp(-x)) (SiLU) over n float32 elements from element off. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n; float alpha; uint off; } p;
layout (std430, binding = 0) writeonly buffer Out { float o[]; };
layout (std430, binding = 1) readonly buffer X { float x[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float v = x[p.off + i];
        o[p.off + i] = v / (1.0 + exp (-v));
    }
}
