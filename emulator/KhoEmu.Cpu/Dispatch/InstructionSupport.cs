using Iced.Intel;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>What the CPU does with an instruction on a model, for tools, docs and tests: #UD when the model does not
/// advertise its features, a handler when implemented, a stop when advertised but not implemented.</summary>
public static unsafe class InstructionSupport
{
    /// <summary>True when <paramref name="model"/> advertises every CPUID feature <paramref name="code"/> needs.</summary>
    public static bool IsAdvertised(CpuModel model, Code code) => FeatureGate.Advertised(model, code);

    /// <summary>True when <paramref name="code"/> has a handler (its register-operand forms may still be MMX forms,
    /// which stop the machine).</summary>
    public static bool IsImplemented(Code code) => HandlerTable.HasHandler(code);
}
