"""Where hosted checkout and payment links return the customer (`/payments/razorpay/callback`)."""
