// placeholder until the simulated server lands
