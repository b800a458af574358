using Hrm.Runtime.Config;

namespace Hrm.Runtime.Tests;

public class SmokeTests
{
    [Fact]
    public void Default_config_is_valid() => new HrmConfig().Validate();
}
