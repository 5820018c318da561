return CourseLib.Torch.NativeShim.RestartIfNeeded(args) ?? 0;
