using System.Diagnostics.CodeAnalysis;

// CA1716 protects Visual Basic callers from names that are VB keywords. The course is C#-only, and Module, Step
// and step are the names learners know from PyTorch (nn.Module, optimizer.step()); renaming them would cost clarity.
[assembly: SuppressMessage("Naming", "CA1716", Justification = "PyTorch's names (Module, Step); C#-only course.", Scope = "namespaceanddescendants", Target = "~N:CourseLib.Layers")]
[assembly: SuppressMessage("Naming", "CA1716", Justification = "PyTorch's names (Module, Step); C#-only course.", Scope = "namespaceanddescendants", Target = "~N:CourseLib.Models")]
[assembly: SuppressMessage("Naming", "CA1716", Justification = "PyTorch's names (Module, Step); C#-only course.", Scope = "namespaceanddescendants", Target = "~N:CourseLib.Training")]
