namespace CourseLib.Layers;

/// <summary>
/// What every layer and model shares: named parameters and child modules, so an optimizer, a checkpoint or the
/// trainer can walk a whole model by hierarchical names ("blocks.3.ffn.up.weight") as in PyTorch's state_dict.
/// </summary>
public abstract class Module
{
    private readonly List<Parameter> _parameters = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>Registers a parameter of this module (call in the constructor, in forward order).</summary>
    protected Parameter AddParameter(string name, int[] shape, bool decay = true)
    {
        if (_parameters.Any(p => p.Name == name) || _children.Any(c => c.Name == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.", nameof(name));
        }

        var p = new Parameter(name, shape, decay);
        _parameters.Add(p);
        return p;
    }

    /// <summary>Registers a child module (call in the constructor, in forward order: diagnostics walk in this order).</summary>
    protected T AddModule<T>(string name, T module)
        where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (_parameters.Any(p => p.Name == name) || _children.Any(c => c.Name == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.", nameof(name));
        }

        _children.Add((name, module));
        return module;
    }

    /// <summary>Every parameter with its dotted path, this module's own first, then each child's in registration order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (Parameter p in _parameters)
        {
            yield return (prefix + p.Name, p);
        }

        foreach ((string name, Module m) in _children)
        {
            foreach (var np in m.NamedParameters(prefix + name + "."))
            {
                yield return np;
            }
        }
    }

    /// <summary>The direct child modules with their local names, in registration (forward) order.</summary>
    public IReadOnlyList<(string Name, Module Module)> Children => _children;

    /// <summary>Every parameter, in the order of <see cref="NamedParameters"/>.</summary>
    public IReadOnlyList<Parameter> Parameters() => NamedParameters().Select(np => np.Parameter).ToList();

    /// <summary>This module (with name <paramref name="prefix"/> trimmed of its dot) and every descendant, pre-order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach ((string name, Module m) in _children)
        {
            foreach (var nm in m.NamedModules(prefix + name + "."))
            {
                yield return nm;
            }
        }
    }

    /// <summary>Total number of trainable scalars.</summary>
    public long ParameterCount => NamedParameters().Sum(np => (long)np.Parameter.Count);

    /// <summary>Zeroes every gradient (the explicit step before a backward pass).</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in NamedParameters())
        {
            p.ZeroGrad();
        }
    }

    /// <summary>
    /// Floating-point operations of one forward pass over <paramref name="ctx"/>'s rows, counting a multiply-add as 2
    /// and only the matrix products and attention scores (the terms that dominate; element-wise ops are O(N·C)).
    /// </summary>
    public virtual long ForwardFlops(ForwardContext ctx) => _children.Sum(c => c.Module.ForwardFlops(ctx));

    /// <summary>
    /// Adds this module's own measurements from the last forward pass to <paramref name="sink"/> under
    /// "<paramref name="path"/>.key" — e.g. a block's residual-stream RMS or an FFN's dead-ReLU fraction. Children
    /// are visited separately by the caller (see <see cref="NamedModules"/>).
    /// </summary>
    public virtual void AddDiagnostics(string path, IDictionary<string, double> sink)
    {
    }

    /// <summary>
    /// A deterministic seed for a child module from this module's seed and an index, so each layer's weights
    /// depend only on the model seed and the layer's position, not on construction order elsewhere.
    /// </summary>
    public static int ChildSeed(int seed, int index) => unchecked((int)((uint)seed * 2654435761u + (uint)index * 40503u + 1u) & int.MaxValue);
}
