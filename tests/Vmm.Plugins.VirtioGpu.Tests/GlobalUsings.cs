global using Xunit;
global using Vmm.Plugins.Display.Testing;
