namespace CourseLib.Layers;

/// <summary>
/// What every layer and model shares: named parameters and child modules, so an optimizer, a checkpoint or the
/// trainer can walk a whole model by hierarchical names ("blocks.3.ffn.up.weight") as in PyTorch's state_dict.
/// </summary>
public abstract class Module
{
    private readonly List<Parameter> _parameters = [];
    private readonly List<(string Name, Module Module)> _children = [];
    private readonly List<(string Name, float[] Data)> _buffers = [];

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

    /// <summary>
    /// Registers state that is saved with the weights but not trained (e.g. BatchNorm's running statistics), so
    /// checkpoints restore it.
    /// </summary>
    protected void AddBuffer(string name, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_buffers.Any(b => b.Name == name) || _parameters.Any(p => p.Name == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.", nameof(name));
        }

        _buffers.Add((name, data));
    }

    /// <summary>Every buffer (untrained saved state) with its dotted path, in the order of <see cref="NamedParameters"/>.</summary>
    public IEnumerable<(string Name, float[] Data)> NamedBuffers(string prefix = "")
    {
        foreach (var b in _buffers)
        {
            yield return (prefix + b.Name, b.Data);
        }

        foreach ((string name, Module m) in _children)
        {
            foreach (var nb in m.NamedBuffers(prefix + name + "."))
            {
                yield return nb;
            }
        }
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
    /// <remarks>Walks the lists directly (no enumerator, no dotted names): it runs every training step and allocates nothing.</remarks>
    public void ZeroGrad()
    {
        foreach (Parameter p in _parameters)
        {
            p.ZeroGrad();
        }

        foreach ((_, Module m) in _children)
        {
            m.ZeroGrad();
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
}
