namespace KhoEmu.Devices.Iommu;

/// <summary>
/// The intel-iommu device properties that change what the unit advertises (QEMU's <c>-device intel-iommu,...</c>).
/// Queued invalidation has no property: QEMU always advertises it, and so does this model.
/// </summary>
public sealed record IntelIommuOptions
{
    /// <summary>QEMU's <c>intremap</c>: ECAP.IR (with MHMV) and the DMAR table's INTR_REMAP flag. Off by default here
    /// (docs/devices.md says why); QEMU's <c>auto</c> resolves to on under TCG, and so does it here.</summary>
    public bool InterruptRemapping { get; init; }
}
