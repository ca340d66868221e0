"""Autoscaling: the policy specs, the pure scaling decisions, the SimPy control loop, its fluid
form, instance provisioning and predictive scaling."""
