global using Xunit;
global using Vmm.Plugins.CrossDomain.Testing;
global using Vmm.Plugins.CrossDomain.Testing.X11;
