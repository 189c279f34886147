using System.Runtime;
using System.Runtime.CompilerServices;

namespace Internal.Runtime
{
    /// <summary>Stops the CPU for good (a stub: cli; hlt in a loop in kernel images, exit in user programs).</summary>
    public static class Halt
    {
        [RuntimeImport("*", "khoemu_halt_forever")]
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void Forever();
    }
}
