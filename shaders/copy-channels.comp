/* copy-channels.comp — copies an NCHW tensor of cs channels into channels
 * [coff, coff + cs) of one with cd channels (torch.cat along channels). */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint batch, cs, cd, coff, hw, src_off, dst_off; } p;
layout (std430, binding = 0) readonly buffer Src { float s[]; };
layout (std430, binding = 1) writeonly buffer Dst { float d[]; };

void main ()
{
    uint per = p.cs * p.hw, total = p.batch * per;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        uint n = i / per, r = i % per;
        d[p.dst_off + n * p.cd * p.hw + p.coff * p.hw + r] = s[p.src_off + i];
    }
}
