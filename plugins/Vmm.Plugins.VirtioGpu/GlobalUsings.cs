// What nearly every part of the device speaks: guest memory and queues, and the wire format.
global using Vmm.Contracts.Memory;
global using Vmm.Contracts.Virtio;
global using Vmm.Plugins.VirtioGpu.Protocol;
global using Vmm.Plugins.VirtioGpu.Protocol.Commands;
global using Vmm.Plugins.VirtioGpu.Resources;
