namespace Vmm.Qemu.GuestImages;

/// <summary>What <see cref="GuestImageCache.EnsureAsync"/> found or built.</summary>
/// <param name="Paths">The image, or null.</param>
/// <param name="Problem">Why there is no image and which command builds it; null when <paramref name="Paths"/> is set.</param>
public sealed record GuestImageResult(GuestImagePaths? Paths, string? Problem);
