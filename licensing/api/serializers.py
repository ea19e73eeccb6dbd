"""What a license move changes for each user (Replace and plan change previews)."""

from portal.api import serializers


class UserChangeSerializer(serializers.Serializer):
    upn = serializers.CharField()
    gained = serializers.ListField(child=serializers.CharField(), help_text="service plans, by name")
    lost = serializers.ListField(child=serializers.CharField())
    reset_disabled_plans = serializers.ListField(
        child=serializers.CharField(), help_text="turned off for this user now, on again after the move")
    data_lost = serializers.ListField(child=serializers.CharField(),
                                      help_text="data-related services whose data this user would lose")

    def to_representation(self, change):
        return change.as_dict()


class UserChangeGroupSerializer(serializers.Serializer):
    users = serializers.IntegerField(help_text="how many users get this same change")
    gained = serializers.ListField(child=serializers.CharField())
    lost = serializers.ListField(child=serializers.CharField())
    reset_disabled_plans = serializers.ListField(child=serializers.CharField())
    data_lost = serializers.ListField(child=serializers.CharField())

    def to_representation(self, group):
        change, count = group
        return {"users": count, **{k: v for k, v in change.as_dict().items() if k != "upn"}}


class LicensePreviewSerializer(serializers.Serializer):
    """Each user's change: ``users`` lists the first 200 by user name; ``groups`` counts them all."""

    count = serializers.IntegerField()
    users = UserChangeSerializer(many=True)
    groups = UserChangeGroupSerializer(many=True)
    data_lost = serializers.ListField(child=serializers.CharField())
    backup_required = serializers.BooleanField()
    missing = serializers.IntegerField(help_text="licenses the target lacks for these users; 0 when enough")
    digest = serializers.CharField(help_text="send it as licenses/replace/'s reviewed: nothing moves if what "
                                             "changes differs from this")
