"""The client side of the verifier: static checks in the caller's process, execution sent to the sandbox's zygote."""
