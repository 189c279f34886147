using System.Runtime.CompilerServices;

namespace Internal.Runtime
{
    /// <summary>
    /// The one way a guest image stops on an unrecoverable error. Each image installs its own handler (print on the
    /// console, report, halt); until then a failure halts the CPU through the stub-provided halt.
    /// </summary>
    public static unsafe class Panic
    {
        private static delegate*<string, void> s_handler;

        public static void SetHandler(delegate*<string, void> handler) => s_handler = handler;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Fail(string reason)
        {
            var h = s_handler;
            if (h != null) h(reason);
            Halt.Forever();
        }
    }
}
