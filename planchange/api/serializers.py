from rest_framework import serializers


class ActionSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class BlockerSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    resolution = serializers.CharField()
    detail = serializers.CharField()
    action = ActionSerializer(allow_null=True)
    services = serializers.ListField(child=serializers.CharField(), required=False)

    def to_representation(self, blocker):
        return blocker.as_dict()


class OfferOptionSerializer(serializers.Serializer):
    term = serializers.CharField(source="offer.term")
    billing_frequency = serializers.CharField(source="offer.billing_frequency")
    price = serializers.DecimalField(source="offer.price", max_digits=12, decimal_places=2)
    licenses = serializers.IntegerField()
    monthly_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    period_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class TargetSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    supported = serializers.BooleanField()
    reasons = BlockerSerializer(many=True)
    offers = OfferOptionSerializer(many=True)


class UpgradesSerializer(serializers.Serializer):
    can_change_automatically = serializers.BooleanField()
    blockers = BlockerSerializer(many=True)
    upgrades = TargetSerializer(many=True, source="targets")
