global using Vmm.Plugins.Display.Testing;
global using Xunit;
