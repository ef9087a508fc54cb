"""Close of business (日终批处理): the daily run that brings every active loan to the business date."""
