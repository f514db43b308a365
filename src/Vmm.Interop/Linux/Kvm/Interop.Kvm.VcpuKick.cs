using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static unsafe partial class Kvm
    {
        /// <summary>
        /// glibc's struct sigaction on x86-64: handler, 1024-bit mask, flags, restorer. Checked against signal.h by the
        /// header test.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct sigaction_t
        {
            internal nint sa_handler;
            internal fixed ulong sa_mask[16];
            internal int sa_flags;
            internal nint sa_restorer;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "sigaction", SetLastError = true)]
        internal static partial int SigAction(int signal, sigaction_t* action, sigaction_t* oldAction);

        [LibraryImport(Libraries.Libc, EntryPoint = "__libc_current_sigrtmin")]
        internal static partial int CurrentSigRtMin();

        [LibraryImport(Libraries.Libc, EntryPoint = "gettid")]
        internal static partial int GetTid();

        [LibraryImport(Libraries.Libc, EntryPoint = "getpid")]
        internal static partial int GetPid();

        [LibraryImport(Libraries.Libc, EntryPoint = "tgkill", SetLastError = true)]
        internal static partial int TgKill(int threadGroup, int thread, int signal);

        // A vCPU is kicked out of KVM_RUN by immediate_exit = 1 plus a signal to its thread. The signal needs a real
        // handler installed without SA_RESTART (so KVM_RUN returns EINTR) that does nothing: a one-instruction native
        // `ret`, because managed code must not run in a signal handler. CoreCLR owns SIGRTMIN, so use a later one.
        private const int KickSignalOffset = 6;
        private static readonly Lock s_kickLock = new();
        private static int s_kickSignal;

        /// <summary>The real-time signal vCPU threads are kicked with; its no-op handler is installed on first use.</summary>
        internal static int EnsureVcpuKickSignal()
        {
            lock (s_kickLock)
            {
                if (s_kickSignal != 0)
                {
                    return s_kickSignal;
                }

                nuint pageSize = (nuint)Environment.SystemPageSize;
                nint stub = MmapAnonymous(0, pageSize, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_PRIVATE | Interop.MAP_ANONYMOUS, -1, 0);
                if (stub == Interop.MAP_FAILED)
                {
                    ThrowForLastError("mmap(signal stub)");
                }

                *(byte*)stub = 0xC3; // ret
                CheckIo(Mprotect(stub, pageSize, Interop.PROT_READ | PROT_EXEC), "mprotect(signal stub)");

                int signal = CurrentSigRtMin() + KickSignalOffset;
                sigaction_t action = default;
                action.sa_handler = stub;
                CheckIo(SigAction(signal, &action, null), "sigaction(vCPU kick)");

                // The page stays mapped for the life of the process: the handler may run at any time after this.
                s_kickSignal = signal;
                return signal;
            }
        }
    }
}
