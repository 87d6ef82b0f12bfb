"""Commands from every front door: the bus they call and the unit of work that saves them."""
