/* copy-channels.comp — copies an NCHW tensor of cs channels into channels
 * [coff, coff + cs) of one with cd channels (torch.cat along channels).
 * V4 = 1 (hw and both offsets multiples of 4) copies vec4s: on lavapipe a
 * lane-varying load or store costs about the same for a vec4 as for a float. */
#version 450
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint V4 = 0;

layout (push_constant) uniform Push { uint batch, cs, cd, coff, hw, src_off, dst_off; } p;
layout (std430, binding = 0) readonly buffer Src { float s[]; };
layout (std430, binding = 1) writeonly buffer Dst { float d[]; };
layout (std430, binding = 0) readonly buffer Src4 { vec4 s4[]; };
layout (std430, binding = 1) writeonly buffer Dst4 { vec4 d4[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (V4 != 0) {
        uint hw4 = p.hw / 4, per = p.cs * hw4, total = p.batch * per;
        for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
            uint n = i / per, r = i % per;
            d4[p.dst_off / 4 + (n * p.cd + p.coff) * hw4 + r] = s4[p.src_off / 4 + i];
        }
        return;
    }
    uint per = p.cs * p.hw, total = p.batch * per;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        uint n = i / per, r = i % per;
        d[p.dst_off + n * p.cd * p.hw + p.coff * p.hw + r] = s[p.src_off + i];
    }
}
