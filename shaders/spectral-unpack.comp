/* spectral-unpack.comp — the real part of interleaved complex planes back into NCHW:
 * x[q] = alpha·Re z[q] + beta·m[c] for every element q of batch × channels × np pixels, where
 * c is q's channel (m: one value per channel, the stationary mean). */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint total, np, channels; float alpha, beta; } p;
layout (std430, binding = 0) writeonly buffer X { float x[]; };
layout (std430, binding = 1) readonly buffer Z { vec2 z[]; };
layout (std430, binding = 2) readonly buffer M { float m[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint q = gl_GlobalInvocationID.x; q < p.total; q += stride) {
        uint c = (q / p.np) % p.channels;
        x[q] = fma (p.alpha, z[q].x, p.beta * m[c]);
    }
}
