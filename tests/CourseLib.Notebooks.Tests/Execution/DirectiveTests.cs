using CourseLib.Notebooks.Execution;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CourseLib.Notebooks.Tests.Execution;

public class DirectiveTests
{
    [Fact]
    public void Parse_NuGetDirectiveAnywhere_IsHoistedAndItsLineBlanked()
    {
        CellDirectives d = CellDirectives.Parse("var a = 1;\n#r \"nuget: Foo.Bar, 1.2.3\"\n#r \"nuget:Baz\"\na");

        Assert.Equal([new PackageRequest("Foo.Bar", "1.2.3", 2), new PackageRequest("Baz", null, 3)], d.Packages);
        Assert.Equal("var a = 1;\n\n\na", d.Code);
    }

    [Fact]
    public void Parse_PathReference_IsLeftForRoslynAndRecorded()
    {
        CellDirectives d = CellDirectives.Parse("#r \"../lib/x.dll\"\nvar a = 1;");

        Assert.Equal([new AssemblyRequest("../lib/x.dll", 1)], d.Assemblies);
        Assert.Equal("#r \"../lib/x.dll\"\nvar a = 1;", d.Code);
    }

    [Fact]
    public void Run_PathReference_LoadsTheAssemblyAndItsNeighbours()
    {
        using var folder = new TempFolder();
        // B.dll sits next to A.dll and is not referenced by the notebook: loading A must find it there.
        string libDir = Path.Combine(folder.Path, "lib");
        Directory.CreateDirectory(libDir);
        string b = Compile(libDir, "NbTestB", "public static class B { public static int Seven() => 7; }");
        Compile(libDir, "NbTestA", "public static class A { public static int TimesSix() => B.Seven() * 6; }", b);

        NotebookResult result = Run.Notebook(folder, "#!csharp\n#r \"lib/NbTestA.dll\"\nA.TimesSix().ToString()", "n.dib");

        Assert.True(result.Succeeded, Run.Describe(result));
        Assert.Equal("42", Assert.Single(result.Cells[0].Outputs).Value);
    }

    [Fact]
    public void Run_MissingPathReference_FailsAtTheDirectiveLine()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar a = 1;\n\n#!csharp\n// refs\n#r \"nope/missing.dll\"\n1");

        CellError error = Assert.IsType<CellError>(result.Cells[1].Error);
        Assert.Equal(("compile", 2, 6), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("CS0006", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_NuGetPackage_IsRestoredForRealAndUsable()
    {
        using var folder = new TempFolder();
        // A fresh cache, so this is a real `dotnet restore` (the package itself comes from ~/.nuget/packages).
        string cache = Path.Combine(folder.Path, "nuget-cache");
        NotebookResult result = Run.Notebook(folder, """
            #!csharp
            var before = 1;
            #r "nuget: CommandLineParser, 2.9.1"
            var parser = new CommandLine.Parser();
            typeof(CommandLine.Parser).Assembly.Location
            """, nugetCache: cache);

        Assert.True(result.Succeeded, Run.Describe(result));
        string location = Assert.Single(result.Cells[0].Outputs).Value;
        Assert.EndsWith(Path.Combine("commandlineparser", "2.9.1", "lib", "netstandard2.0", "CommandLine.dll"), location, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(cache, "project.assets.json", SearchOption.AllDirectories));
    }

    [Fact]
    public void Restore_SamePackageSetTwice_RestoresOnce()
    {
        using var folder = new TempFolder();
        var restorer = new NuGetRestorer(folder.Path);
        var packages = new Dictionary<string, string?> { ["CommandLineParser"] = "2.9.1" };

        RestoredPackages first = restorer.Restore(packages);
        string assets = Directory.GetFiles(folder.Path, "project.assets.json", SearchOption.AllDirectories).Single();
        DateTime written = File.GetLastWriteTimeUtc(assets);
        RestoredPackages second = restorer.Restore(packages);

        Assert.Equal(written, File.GetLastWriteTimeUtc(assets));
        Assert.Equal(first.RuntimeAssemblies, second.RuntimeAssemblies);
        Assert.Single(first.RuntimeAssemblies, p => p.EndsWith("CommandLine.dll", StringComparison.Ordinal));
        Assert.Single(first.CompileAssemblies, p => p.EndsWith("CommandLine.dll", StringComparison.Ordinal));
    }

    [Fact]
    public void Restore_NativePackage_ListsNativeLibrariesForThisMachine()
    {
        using var folder = new TempFolder();
        RestoredPackages restored = new NuGetRestorer(Run.NuGetCache).Restore(new Dictionary<string, string?> { ["TorchSharp-cpu"] = "0.107.0" });

        Assert.Contains(restored.NativeLibraries, p => Path.GetFileName(p) == (OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so"));
        Assert.Contains(restored.RuntimeAssemblies, p => Path.GetFileName(p) == "TorchSharp.dll");
        Assert.DoesNotContain(restored.NativeLibraries, p => p.Contains("win-x64", StringComparison.Ordinal) && !OperatingSystem.IsWindows());
    }

    [Fact]
    public void Run_UnknownPackage_FailsAtTheDirectiveWithNuGetsMessage()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar a = 1;\n#r \"nuget: CourseLib.NoSuchPackage.Anywhere, 1.0.0\"", nugetCache: Path.Combine(folder.Path, "cache"));

        CellError error = result.Cells[0].Error!;
        Assert.Equal(("directive", 2, 3), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("CourseLib.NoSuchPackage.Anywhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SecondVersionOfAPackage_FailsLikeTheKernel()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, """
            #!csharp
            #r "nuget: CommandLineParser, 2.9.1"

            #!csharp
            // the same version again, or no version, is fine
            #r "nuget: CommandLineParser, 2.9.1"
            #r "nuget: CommandLineParser"

            #!csharp
            var x = 1;
            #r "nuget: CommandLineParser, 2.8.0"
            """);

        Assert.Equal([CellStatus.Succeeded, CellStatus.Succeeded, CellStatus.Failed], result.Cells.Select(c => c.Status));
        CellError error = result.Cells[2].Error!;
        Assert.Equal(("directive", 2, 11), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("CommandLineParser version 2.8.0 cannot be added because version 2.9.1 was added previously", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ImportOfCsAndDib_RunsTheirCodeFirst()
    {
        using var folder = new TempFolder();
        folder.Write("helpers.cs", "static int Square(int x) => x * x;\n");
        folder.Write("more.dib", "#!markdown\n# helpers\n#!csharp\nstatic int Cube(int x) => x * x * x;\n");

        NotebookResult result = Run.Notebook(folder, "#!csharp\n#!import helpers.cs\n#!import \"more.dib\"\n(Square(3) + Cube(2)).ToString()");

        Assert.True(result.Succeeded, Run.Describe(result));
        Assert.Equal("17", Assert.Single(result.Cells[0].Outputs).Value);
    }

    [Fact]
    public void Run_ImportWithAnError_PointsAtTheImportLineAndTheImportedCell()
    {
        using var folder = new TempFolder();
        folder.Write("broken.dib", "#!csharp\nvar ok = 1;\n\n#!csharp\nvar bad = ;\n");

        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar a = 1;\n#!import broken.dib");

        CellError error = result.Cells[0].Error!;
        Assert.Equal(("compile", 2, 3), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("broken.dib", error.Message, StringComparison.Ordinal);
        Assert.Contains("cell 2, line 1 (file line 5)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ImportCycle_FailsInsteadOfRecursing()
    {
        using var folder = new TempFolder();
        folder.Write("a.dib", "#!csharp\n#!import b.dib\n");
        folder.Write("b.dib", "#!csharp\n#!import a.dib\n");

        NotebookResult result = Run.Notebook(folder, "#!csharp\n#!import a.dib");

        CellError error = result.Cells[0].Error!;
        Assert.Equal(("directive", 1), (error.Kind, error.LineInCell));
        Assert.Contains("imports itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Time_ReportsWallTimeAfterTheOutputs()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\n#!time\nSystem.Threading.Thread.Sleep(50);\n\"done\"");

        Assert.True(result.Succeeded, Run.Describe(result));
        IReadOnlyList<CellOutput> outputs = result.Cells[0].Outputs;
        Assert.Equal(2, outputs.Count);
        Assert.Equal("done", outputs[0].Value);
        Assert.Matches(@"^Wall time: \d+(\.\d+)?ms$", outputs[1].Value);
        double ms = double.Parse(outputs[1].Value["Wall time: ".Length..^2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ms, 50, 30_000);
    }

    [Theory]
    [InlineData("#!who")]
    [InlineData("#!set --name x --value 1")]
    [InlineData("#!fsharp ")]
    public void Run_UnsupportedMagicCommand_FailsNamingNotebookCellAndLine(string magic)
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, $"#!csharp\nvar a = 1;\n\n#!csharp\nvar b = 2;\n{magic}\nvar c = 3;\n\n#!csharp\nvar d = 4;");

        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.NotRun], result.Cells.Select(c => c.Status));
        CellError error = result.Cells[1].Error!;
        Assert.Equal(("directive", 2, 6), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("test.dib: cell 2, line 2 (file line 6)", error.Message, StringComparison.Ordinal);
        Assert.Contains(magic.Trim(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_CellInAnotherKernel_FailsInsteadOfBeingSkipped()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar a = 1;\n#!fsharp\nlet b = 2\n#!mermaid\ngraph TD; A-->B\n#!csharp\n1");

        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.NotRun, CellStatus.NotRun], result.Cells.Select(c => c.Status));
        CellError error = result.Cells[1].Error!;
        Assert.Equal(("kernel", 4), (error.Kind, error.LineInFile));
        Assert.Contains("fsharp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MarkdownAndMermaid_SucceedWithoutRunning()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!markdown\n# T\n#!mermaid\ngraph TD; A-->B");

        Assert.True(result.Succeeded);
        Assert.All(result.Cells, c => Assert.Empty(c.Outputs));
    }

    [Fact]
    public void Run_NativeLibraryFromAPackage_IsFoundWhenAnAssemblyImportsIt()
    {
        Assert.True(File.Exists(SystemZlib), "this test needs the system zlib (x64 Linux: Debian, Ubuntu) at " + SystemZlib);
        using var folder = new TempFolder();
        // A "package" whose native library sits in its own runtimes folder, away from the assembly that imports it:
        // only the runner's unmanaged-library resolver can find it there.
        string native = Path.Combine(folder.Path, "pkg", "runtimes", "linux-x64", "native", "libnbtestz.so");
        Directory.CreateDirectory(Path.GetDirectoryName(native)!);
        File.Copy(SystemZlib, native);
        AssemblyResolver.Shared.AddPackages(new RestoredPackages([], [], [native]));
        string libDir = Path.Combine(folder.Path, "lib");
        Directory.CreateDirectory(libDir);
        Compile(libDir, "NbTestNative", """
            using System.Runtime.InteropServices;
            public static class Z
            {
                [DllImport("nbtestz")] private static extern System.IntPtr zlibVersion();
                public static string Version() => Marshal.PtrToStringAnsi(zlibVersion())!;
            }
            """, Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "System.Runtime.InteropServices.dll"));

        NotebookResult result = Run.Notebook(folder, "#!csharp\n#r \"lib/NbTestNative.dll\"\nZ.Version()");

        Assert.True(result.Succeeded, Run.Describe(result));
        Assert.Matches(@"^1\.\d+", Assert.Single(result.Cells[0].Outputs).Value);
    }

    private const string SystemZlib = "/usr/lib/x86_64-linux-gnu/libz.so.1";

    private static string Compile(string dir, string name, string code, params string[] references)
    {
        var refs = new List<MetadataReference>
        {
            MetadataReference.CreateFromFile(typeof(object).Assembly.Location),
            MetadataReference.CreateFromFile(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "System.Runtime.dll")),
        };
        refs.AddRange(references.Select(r => MetadataReference.CreateFromFile(r)));
        CSharpCompilation compilation = CSharpCompilation.Create(
            name, [CSharpSyntaxTree.ParseText(code)], refs, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        string path = Path.Combine(dir, name + ".dll");
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(path);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return path;
    }
}
