namespace System
{
    /// <summary>
    /// Present so the compiler accepts <c>throw null</c> in intrinsic placeholders; guest code never throws (there is
    /// no unwinder): errors are return codes, and the compiler-inserted checks call <see cref="Internal.Runtime.CompilerHelpers.ThrowHelpers"/>,
    /// which panics with a reason.
    /// </summary>
    public class Exception { }
}
