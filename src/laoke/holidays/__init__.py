"""Holiday campaigns (SPEC 13): holiday gift campaigns (the seed 000 mid-autumn mooncake workflow)
and the supermarket holiday promotion presets with the pre-purchase lottery."""
