// The FUSE wire vocabulary (fuse.h's structs and constants, errno values) is every layer's: the server decodes it,
// the passthrough file system answers in it, the host calls fail with its errno values.
global using Vmm.Plugins.VirtioFs.Fuse;
