using System.Runtime.CompilerServices;

// Only blittable structs cross the boundary; LibraryImport generates its own errno capture.
[assembly: DisableRuntimeMarshalling]
